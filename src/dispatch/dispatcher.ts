import type { StrategyFilter } from '../ports.js';
import type { Signal } from '../domain/signal.js';
import type { Tick } from '../domain/tick.js';
import { RunnerError } from '../errors.js';
import type { BatchResultMessage } from '../protocol/messages.js';
import { encodeTickBatch } from '../protocol/tick-batch-codec.js';
import type { HostBatch, Router } from '../routing/router.js';
import { ErrorLogLimiter } from '../supervision/error-log-limiter.js';
import type { RoundResult } from '../supervision/reports.js';
import type { StrategyEntry } from '../supervision/strategy-entry.js';
import type { SupervisorContext } from '../supervision/supervisor-context.js';
import type { ThreadPool } from '../supervision/thread-pool.js';
import { Conflation } from './conflation.js';
import { mergeResults, type MergeContext, type SentBatch } from './merge.js';
import { OverloadMonitor } from './overload.js';

export interface DispatcherHooks {
  /** a strategy failed a tick (wall clock: the restarter decides on consecutive errors) */
  onTickError(entry: StrategyEntry, consecutive: number, error: { code: string; message: string }): void;
  /** a batch answer carried what the thread decided for its strategies (event time) */
  onThreadSupervision(r: BatchResultMessage): void;
}

/**
 * Dispatch: a round of ticks is routed (Router) into one batch per thread,
 * posted, and the answers merged into one ordered result; the live variant
 * answers per thread, conflates a thread that is behind and tells the input
 * when there is capacity again (OverloadMonitor).
 */
export class Dispatcher {
  readonly #ctx: SupervisorContext;
  readonly #pool: ThreadPool;
  readonly #router: Router<StrategyEntry>;
  readonly #hooks: DispatcherHooks;
  readonly #merge: MergeContext;
  readonly overload: OverloadMonitor;
  readonly conflation: Conflation;
  #lateSignals: ((signals: Signal[]) => void) | undefined;

  constructor(ctx: SupervisorContext, pool: ThreadPool, router: Router<StrategyEntry>, hooks: DispatcherHooks) {
    this.#ctx = ctx;
    this.#pool = pool;
    this.#router = router;
    this.#hooks = hooks;
    this.conflation = new Conflation(ctx);
    this.overload = new OverloadMonitor(ctx, () => pool.slots, (h) => this.conflation.has(h));
    this.#merge = {
      log: ctx.log,
      errorLog: new ErrorLogLimiter(10, 1000),
      totals: ctx.totals,
      bySlot: (slot) => ctx.strategies.bySlot(slot),
      onTickError: (entry, consecutive, error) => hooks.onTickError(entry, consecutive, error),
    };
  }

  /** A thread failed or was retired: nothing waits for it any more. */
  forget(h: number): void {
    this.overload.forget(h);
    this.conflation.delete(h);
  }

  #route(ticks: readonly Tick[], only: StrategyFilter | undefined, record = true): { batches: (HostBatch | undefined)[]; unrouted: number } {
    const t = this.#ctx.totals;
    t.rounds++;
    t.ticks += ticks.length;
    const routed = this.#router.route(ticks, this.#pool.size, only, record);
    t.unrouted += routed.unrouted;
    return routed;
  }

  /** See Supervisor.dispatch(). */
  dispatch(ticks: readonly Tick[], options: DispatchOptions = {}): Promise<RoundResult> {
    const { batches, unrouted } = this.#route(ticks, options.only, options.record !== false);
    const pending: Promise<BatchResultMessage | Error>[] = [];
    const sent: SentBatch[] = [];
    for (let h = 0; h < batches.length; h++) {
      const b = batches[h];
      if (b === undefined) continue;
      const s = this.#send(h, b);
      sent.push(s.sent);
      pending.push(s.answer);
    }
    if (pending.length === 0) return Promise.resolve({ signals: [], errors: [], unrouted });
    const emit = options.emit !== false;
    return Promise.all(pending).then((results) => mergeResults(this.#merge, sent, results, unrouted, emit));
  }

  /** See Supervisor.dispatchParts(). */
  dispatchParts(ticks: readonly Tick[], options: DispatchOptions = {}): { parts: Promise<RoundResult>[]; unrouted: number } {
    const { batches, unrouted } = this.#route(ticks, options.only, options.record !== false);
    const emit = options.emit !== false;
    const parts: Promise<RoundResult>[] = [];
    for (let h = 0; h < batches.length; h++) {
      const b = batches[h];
      if (b === undefined) continue;
      const host = this.#pool.host(h);
      if (
        emit &&
        host !== undefined &&
        host.state === 'ready' &&
        (this.conflation.has(h) || (this.overload.slowThreads.has(h) && host.queueDepth >= this.#ctx.sup.maxQueuedBatches))
      ) {
        // Behind older conflated ticks, a new batch waits its turn in the buffer: per-instrument order holds.
        this.conflation.add(h, b);
        this.#flushConflated(h);
        parts.push(Promise.resolve({ signals: [], errors: [], unrouted: 0 }));
        continue;
      }
      const s = this.#send(h, b);
      parts.push(
        s.answer.then((res) => {
          const r = mergeResults(this.#merge, [s.sent], [res], 0, emit);
          this.#flushConflated(h);
          return r;
        }),
      );
    }
    return { parts, unrouted };
  }

  /** Where signals of conflated ticks (sent when a slow thread catches up) go; they belong to no round. */
  onLateSignals(handler: (signals: Signal[]) => void): void {
    this.#lateSignals = handler;
  }

  /**
   * Encode a routed batch and post it; what is kept while its answer is
   * awaited is the encoded form and the round indexes (SentBatch), never the
   * HostBatch with its tick objects and route array.
   */
  #send(h: number, b: HostBatch): { sent: SentBatch; answer: Promise<BatchResultMessage | Error> } {
    const sent: SentBatch = { enc: encodeTickBatch(b.ticks, b.routes), index: b.index };
    const host = this.#pool.host(h);
    if (host === undefined) return { sent, answer: Promise.resolve(new RunnerError('WORKER_EXITED', `thread ${h} is gone`)) };
    const answer = host.sendEncoded(sent.enc).then(
      (r) => {
        this.overload.notify();
        // Per thread, in batch order (rounds may complete out of order): what its strategies' thread decided.
        if (r.supervision !== undefined || r.missed !== undefined) this.#hooks.onThreadSupervision(r);
        return r;
      },
      (e: unknown) => {
        this.overload.notify();
        return e instanceof Error ? e : new Error(String(e));
      },
    );
    return { sent, answer };
  }

  /** Send what was conflated for a thread once it has room again. */
  #flushConflated(h: number): void {
    const b = this.conflation.take(h, this.#pool.host(h));
    if (b === undefined) return;
    const s = this.#send(h, b);
    void s.answer.then((res) => {
      const r = mergeResults(this.#merge, [s.sent], [res], 0, true);
      if (r.signals.length > 0) this.#lateSignals?.(r.signals);
      this.#flushConflated(h);
    });
  }
}

/** How a round is dispatched: `emit: false` for warm-up (no signals), `only` for a subset of the strategies. */
export interface DispatchOptions {
  emit?: boolean;
  only?: StrategyFilter;
  /** keep the ticks in the re-warm history (default); false for ticks re-read behind the live stream */
  record?: boolean;
}
