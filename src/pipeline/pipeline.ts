import type { Logger } from 'pino';
import type { Fill } from '../domain/fill.js';
import type { Signal } from '../domain/signal.js';
import type { Tick } from '../domain/tick.js';
import type { InputEvent, SignalSink, StrategyFilter } from '../ports.js';
import type { PipelineStatus } from '../status/status-document.js';
import type { RoundResult, Supervisor, SupervisorTotals } from '../supervision/supervisor.js';

export interface PipelineOptions {
  supervisor: Supervisor;
  sink: SignalSink;
  logger: Logger;
  /**
   * Dispatch rounds in flight at once. More overlaps the main thread's
   * routing with the threads' work; fewer bounds memory and latency.
   */
  maxInFlightRounds?: number;
  /**
   * Rounds handed to the sink and not yet acknowledged (Kafka delivery
   * reports). The sink is not awaited round by round, or the broker's round
   * trip would bound throughput; this bounds memory instead.
   */
  maxPendingDeliveries?: number;
  /**
   * Fills of strategies that do not run here are expected (a sharded runner
   * reads every fill and runs only its shards' strategies): kept in their
   * portfolios without a warning each.
   */
  fillsForOthers?: boolean;
  /**
   * `ordered` (replay, the default): each round's signals are merged across
   * threads and written in tick → strategy id → emission order; a slow
   * strategy slows the run. `streaming` (live): each thread's part of a round
   * is written as soon as it is ready, a saturated thread's ticks are
   * conflated, and no slow strategy holds the consumer back; a round counts
   * as delivered when every part of it is acknowledged.
   */
  mode?: 'ordered' | 'streaming';
  /**
   * Backtest (ordered mode): the simulated fills of each round, in round
   * order, once the supervisor has booked them.
   */
  onSimulatedFills?: (fills: readonly Fill[]) => void;
}

interface StreamingRound {
  /** the round's number (the sink's `round`) */
  round: number;
  remaining: number;
  onDelivered: (() => void) | undefined;
}

/**
 * A run's counts. Each has one owner: what was dispatched (ticks, rounds,
 * signals, tick errors, unrouted ticks) and what fills did are the
 * supervisor's totals, read through here; the pipeline itself counts only
 * what it alone sees: signals the sink acknowledged, and signals and errors
 * per strategy over the whole run (a thread's own counts start again with
 * each restart). Ticks re-read for warm-up are the input's (`consumer.counters`).
 */
export interface PipelineCounters {
  readonly ticks: number;
  readonly rounds: number;
  readonly signals: number;
  /** signals the sink has acknowledged */
  signalsDelivered: number;
  readonly tickErrors: number;
  readonly unroutedTicks: number;
  readonly fillsApplied: number;
  readonly fillsDuplicate: number;
  readonly fillsUnknownStrategy: number;
  signalsByStrategy: Record<string, number>;
  errorsByStrategy: Record<string, number>;
}

/** The pipeline's counters over the supervisor's totals (one object for the whole run; the totals read live). */
function pipelineCounters(totals: Readonly<SupervisorTotals>): PipelineCounters {
  const c = { signalsDelivered: 0, signalsByStrategy: {}, errorsByStrategy: {} } as PipelineCounters;
  const read = (get: () => number): PropertyDescriptor => ({ get, enumerable: true });
  return Object.defineProperties(c, {
    ticks: read(() => totals.ticks),
    rounds: read(() => totals.rounds),
    signals: read(() => totals.signals),
    tickErrors: read(() => totals.tickErrors),
    unroutedTicks: read(() => totals.unrouted),
    fillsApplied: read(() => totals.fillsApplied),
    fillsDuplicate: read(() => totals.fillsDuplicate),
    fillsUnknownStrategy: read(() => totals.fillsUnknown),
  });
}

interface InFlight {
  round: number;
  settled: boolean;
  result: RoundResult | undefined;
  error: unknown;
  onDelivered: (() => void) | undefined;
}

interface PendingDelivery {
  round: number;
  done: boolean;
  signals: number;
  onDelivered: (() => void) | undefined;
}

/**
 * Pulls input events, dispatches tick batches through the supervisor with
 * several rounds in flight, and hands each round's signals to the sink in
 * round order, so the output order is deterministic whatever the thread
 * timing. A batch's `onDelivered` runs once the sink has acknowledged its
 * signals and those of every earlier batch: the Kafka input commits offsets
 * there, which is what makes the delivery at-least-once.
 * Fills are applied between rounds, in input order.
 */
export class Pipeline {
  readonly #o: PipelineOptions;
  readonly #maxRounds: number;
  readonly #maxPending: number;
  readonly #inflight: InFlight[] = [];
  readonly #pending: PendingDelivery[] = [];
  #waiters: (() => void)[] = [];
  #failure: unknown;
  readonly counters: PipelineCounters;
  #stopRequested = false;
  readonly #streaming: StreamingRound[] = [];
  /** the number of the next dispatch round */
  #nextRound = 0;
  /** every round up to this one has settled */
  #settledRound = -1;
  #ended = false;

  constructor(options: PipelineOptions) {
    this.#o = options;
    this.counters = pipelineCounters(options.supervisor.totals);
    this.#maxRounds = Math.max(1, options.maxInFlightRounds ?? 4);
    this.#maxPending = Math.max(1, options.maxPendingDeliveries ?? 64);
    if (options.mode === 'streaming') {
      options.supervisor.onLateSignals((signals) => this.#write(signals, undefined, undefined));
    }
  }

  /** Stop pulling input after the current event; what is in flight is still delivered. */
  requestStop(): void {
    this.#stopRequested = true;
  }

  /** The number of the last round dispatched (−1 before the first). */
  get lastDispatchedRound(): number {
    return this.#nextRound - 1;
  }

  /**
   * Resolves once every round up to `round` has settled (its signals and all
   * earlier ones acknowledged); rejects when the pipeline fails first. After
   * the run has ended, every round has.
   */
  async settledThrough(round: number): Promise<void> {
    await this.#waitFor(() => this.#settledRound >= round || this.#ended);
  }

  /** Rounds handed to the sink and not yet acknowledged. */
  get pendingDeliveries(): number {
    return this.#pending.length;
  }

  /** Dispatch rounds whose results have not been collected (ordered) or acknowledged (streaming) yet. */
  get roundsInFlight(): number {
    return this.#inflight.length + this.#streaming.length;
  }

  /** The pipeline's own section of /status: delivery (what was dispatched is in the supervisor's totals). */
  status(): PipelineStatus {
    return {
      signals_delivered: this.counters.signalsDelivered,
      rounds_in_flight: this.roundsInFlight,
      pending_deliveries: this.pendingDeliveries,
      signals_by_strategy: { ...this.counters.signalsByStrategy },
      errors_by_strategy: { ...this.counters.errorsByStrategy },
    };
  }

  async run(events: AsyncIterable<InputEvent>): Promise<PipelineCounters> {
    const { supervisor } = this.#o;
    for await (const ev of events) {
      this.#throwIfFailed();
      if (ev.kind === 'ticks') {
        if (this.#o.mode === 'streaming') {
          const wait = supervisor.capacity();
          if (wait !== undefined) await wait;
          this.#dispatchStreaming(ev.ticks, ev.warmup !== true, ev.onDelivered, ev.only, ev.catchUp !== true);
          await this.#waitFor(() => this.#streaming.length < this.#maxPending);
          if (this.#stopRequested) break;
          continue;
        }
        const entry: InFlight = { round: this.#nextRound++, settled: false, result: undefined, error: undefined, onDelivered: ev.onDelivered };
        this.#inflight.push(entry);
        supervisor.dispatch(ev.ticks, ev.only === undefined ? { emit: ev.warmup !== true } : { emit: ev.warmup !== true, only: ev.only }).then(
          (r) => {
            entry.settled = true;
            entry.result = r;
            this.#pump();
          },
          (err: unknown) => {
            entry.settled = true;
            entry.error = err;
            this.#pump();
          },
        );
        await this.#waitFor(() => this.#inflight.length < this.#maxRounds && this.#pending.length < this.#maxPending);
      } else {
        const outcome = supervisor.applyFill(ev.fill);
        if (outcome === 'unknown-strategy' && this.#o.fillsForOthers !== true) {
          this.#o.logger.warn({ fill_id: ev.fill.fill_id, strategy_id: ev.fill.strategy_id }, 'fill for a strategy that is not running; kept in its portfolio');
        }
      }
      if (this.#stopRequested) break;
    }
    await this.#waitFor(() => this.#inflight.length === 0 && this.#pending.length === 0 && this.#streaming.length === 0 && this.#lateWrites === 0);
    this.#throwIfFailed();
    await this.#o.sink.flush();
    this.#ended = true;
    this.#wake();
    return this.counters;
  }

  #lateWrites = 0;

  /** Streaming: each thread's part goes to the sink when ready; the round is delivered when all parts are acknowledged. */
  #dispatchStreaming(ticks: readonly Tick[], emit: boolean, onDelivered: (() => void) | undefined, only: StrategyFilter | undefined, record: boolean): void {
    const { parts } = this.#o.supervisor.dispatchParts(ticks, only === undefined ? { emit, record } : { emit, only, record });
    const round: StreamingRound = { round: this.#nextRound++, remaining: parts.length, onDelivered };
    this.#streaming.push(round);
    if (parts.length === 0) this.#settleStreaming();
    for (const part of parts) {
      part.then(
        (r) => {
          this.#count(r);
          this.#write(
            r.signals,
            () => {
              round.remaining--;
              if (round.remaining === 0) this.#settleStreaming();
            },
            round.round,
          );
        },
        (err: unknown) => {
          this.#failure ??= err;
          this.#wake();
        },
      );
    }
  }

  /** Hand signals to the sink; `done` runs on acknowledgement. */
  #write(signals: readonly Signal[], done: (() => void) | undefined, round: number | undefined): void {
    if (done === undefined) {
      // Late signals (conflated ticks): delivered, but no round waits for them.
      for (const s of signals) this.counters.signalsByStrategy[s.strategy_id] = (this.counters.signalsByStrategy[s.strategy_id] ?? 0) + 1;
      this.#lateWrites++;
    }
    let written: Promise<void>;
    try {
      written = this.#o.sink.write(signals, round);
    } catch (err) {
      written = Promise.reject(err);
    }
    written.then(
      () => {
        this.counters.signalsDelivered += signals.length;
        if (done === undefined) this.#lateWrites--;
        done?.();
        this.#wake();
      },
      (err: unknown) => {
        this.#failure ??= err;
        this.#wake();
      },
    );
  }

  #settleStreaming(): void {
    while (this.#failure === undefined && this.#streaming.length > 0 && this.#streaming[0]!.remaining === 0) {
      const r = this.#streaming.shift()!;
      r.onDelivered?.();
      this.#settledRound = r.round;
      this.#o.sink.roundSettled?.(r.round);
    }
    this.#wake();
  }

  #count(r: RoundResult): void {
    const c = this.counters;
    for (const s of r.signals) c.signalsByStrategy[s.strategy_id] = (c.signalsByStrategy[s.strategy_id] ?? 0) + 1;
    for (const e of r.errors) c.errorsByStrategy[e.strategyId] = (c.errorsByStrategy[e.strategyId] ?? 0) + 1;
  }

  /**
   * Hand every completed round at the head of the window to the sink, in
   * round order, as soon as it completes: a live stream must not wait for
   * the next input to release the signals of the last one.
   */
  #pump(): void {
    while (this.#failure === undefined && this.#inflight.length > 0 && this.#inflight[0]!.settled) {
      const f = this.#inflight.shift()!;
      if (f.error !== undefined) {
        this.#failure = f.error;
        break;
      }
      const r = f.result!;
      this.#count(r);
      if (r.fills !== undefined) {
        for (const fill of r.fills) this.#o.supervisor.bookSimulatedFill(fill);
        this.#o.onSimulatedFills?.(r.fills);
      }

      const entry: PendingDelivery = { round: f.round, done: false, signals: r.signals.length, onDelivered: f.onDelivered };
      this.#pending.push(entry);
      let written: Promise<void>;
      try {
        written = this.#o.sink.write(r.signals, f.round);
      } catch (err) {
        written = Promise.reject(err);
      }
      written.then(
        () => {
          entry.done = true;
          this.#settle();
        },
        (err: unknown) => {
          this.#failure ??= err;
          this.#settle();
        },
      );
    }
    this.#wake();
  }

  /** Acknowledge, in order, every delivered round at the head; stop at the first that is not. */
  #settle(): void {
    while (this.#failure === undefined && this.#pending.length > 0 && this.#pending[0]!.done) {
      const e = this.#pending.shift()!;
      this.counters.signalsDelivered += e.signals;
      e.onDelivered?.();
      this.#settledRound = e.round;
      this.#o.sink.roundSettled?.(e.round);
    }
    this.#wake();
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const resolve of w) resolve();
  }

  /** Wait until cond() holds or the pipeline failed (then throw). */
  async #waitFor(cond: () => boolean): Promise<void> {
    while (this.#failure === undefined && !cond()) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    this.#throwIfFailed();
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }
}
