import type { SimulatedExecution } from '../../backtest/fill-model.js';
import type { Fill } from '../../domain/fill.js';
import { applyFill, type PortfolioView } from '../../domain/portfolio.js';
import type { Signal, SignalIntent } from '../../domain/signal.js';
import type { Tick } from '../../domain/tick.js';
import { RunnerError } from '../../errors.js';
import type { StrategyContext, StrategyInstance, TickContext, TickOutput } from '../sdk/types.js';
import { BarBook, type Bar, type BarSpec } from './bars.js';
import { buildSignals, intentsOf, invalidIntent, tickOrigin, type SignalOrigin } from './signal-builder.js';
import { TimerQueue, type Timer, type TimerQueueState, type TimerSpec } from './timers.js';

interface InstrumentSeen {
  price: number;
  ts: number;
  n: number;
}

/** A driver's own state in a snapshot (plain JSON). */
export interface DriverState {
  readonly clock: number | null;
  /** [instrument, last price, timestamp of its last tick, ticks seen with that timestamp] */
  readonly instruments: readonly (readonly [number, number, number, number])[];
  readonly timers: TimerQueueState;
  readonly bars: (number | null)[][] | null;
}

/** The strategy around a driver: its configuration's facts and its portfolio (owned by the slot, or by runStrategy). */
export interface DriverHost {
  readonly strategyId: string;
  readonly strategyType: string;
  readonly brokers: readonly string[];
  readonly instruments: readonly number[];
  readonly tickContext: TickContext;
  portfolio: PortfolioView;
}

/** What handling one tick produced. The arrays are the caller's: the driver appends. */
export interface DriverOutput {
  readonly signals: Signal[];
  /** backtest: fills decided at this tick (handed to the strategy later, see SimulatedExecution) */
  readonly fills: Fill[];
  readonly errors: RunnerError[];
}

/**
 * Everything that happens to one strategy instance per tick, by event time,
 * the same in a strategy thread (run, replay, backtest) and in the test kit
 * (runStrategy). For a tick t:
 *  1. backtest: simulated fills stamped before t reach the strategy (onFill);
 *  2. the clock moves to max(clock, t); time bars of any instrument whose end
 *     it reached close (onBar), and timers due fire (onTimer), in time order
 *     (a bar before a timer at the same time);
 *  3. the tick joins its instrument's bars; a tick or volume bar it
 *     completes closes (onBar);
 *  4. backtest (next-tick): orders waiting on this instrument fill at t's price;
 *  5. onTick.
 * A handler's signals are priced at the tick (onTick), the bar's close
 * (onBar) or the last price of the timer's instrument (onTimer).
 */
export class StrategyDriver {
  readonly #host: DriverHost;
  readonly #timers = new TimerQueue();
  readonly #bars: BarBook | undefined;
  readonly #sim: SimulatedExecution | undefined;
  /** per instrument: last price, and the timestamp of its last tick with how many ticks had it (a snapshot's position) */
  readonly #inst = new Map<number, InstrumentSeen>();
  /** after a restore: per instrument, the ticks the snapshot already holds (skipped) */
  #resume: Map<number, { ts: number; n: number }> | undefined;
  #clock = -Infinity;
  instance: StrategyInstance | undefined;

  constructor(host: DriverHost, bars: readonly BarSpec[] | undefined, sim: SimulatedExecution | undefined) {
    this.#host = host;
    this.#bars = bars !== undefined && bars.length > 0 ? new BarBook(bars, host.instruments) : undefined;
    this.#sim = sim;
  }

  /** The strategy's event time: the latest tick timestamp it has received (−Infinity before its first). */
  now(): number {
    return this.#clock;
  }

  schedule(spec: TimerSpec): Timer {
    return this.#timers.schedule(spec, this.#clock === -Infinity ? undefined : this.#clock, this.#host.strategyId);
  }

  cancel(timer: Timer | number): boolean {
    return this.#timers.cancel(typeof timer === 'number' ? timer : timer.id);
  }

  /**
   * One tick (see the class comment). `emit` false: warm-up, the handlers
   * run and what they return is dropped, their errors too; no simulated
   * market. Returns whether onTick itself succeeded.
   */
  tick(tick: Tick, emit: boolean, out: DriverOutput): boolean {
    if (this.#resume !== undefined && this.#held(tick)) return true;
    const sim = emit ? this.#sim : undefined;
    if (sim !== undefined) {
      const due = sim.due(tick.timestamp);
      if (due !== undefined) for (const f of due) this.deliverFill(f, out);
    }
    const t = tick.timestamp;
    if (t > this.#clock) {
      if (this.#clock === -Infinity) this.#timers.anchor(t);
      this.#clock = t;
      this.#advance(emit, out);
    }
    const seen = this.#inst.get(tick.instrument_token);
    if (seen === undefined) this.#inst.set(tick.instrument_token, { price: tick.last_price, ts: t, n: 1 });
    else {
      seen.price = tick.last_price;
      if (seen.ts === t) seen.n++;
      else {
        seen.ts = t;
        seen.n = 1;
      }
    }
    if (this.#bars !== undefined) {
      const done = this.#bars.add(tick, this.#clock);
      if (done.length > 0) for (const bar of [...done]) this.#onBar(bar, emit, out);
    }
    if (sim !== undefined) sim.match(tick, this.#clock, out.fills);
    const instance = this.instance!;
    let result: TickOutput;
    try {
      result = instance.onTick(tick, this.#host.tickContext);
    } catch (err) {
      if (emit) out.errors.push(handlerError(this.#host.strategyId, 'onTick', err, 'threw on a tick'));
      return false;
    }
    return this.#emit(result, 'onTick', tickOrigin(tick), emit, out);
  }

  /** A fill reaches the strategy: backtest fills apply to its portfolio here; others come with their portfolio. */
  deliverFill(fill: Fill, out: DriverOutput | undefined, portfolio?: PortfolioView): void {
    const h = this.#host;
    h.portfolio = portfolio ?? applyFill(h.portfolio, fill);
    try {
      this.instance?.onFill?.(Object.freeze(fill), h.tickContext);
    } catch (err) {
      const e = new RunnerError('STRATEGY_FILL_FAILED', `strategy '${h.strategyId}' threw in onFill for fill '${fill.fill_id}': ${(err as Error)?.message ?? String(err)}`, {
        cause: err,
        details: { strategy_id: h.strategyId, fill_id: fill.fill_id },
      });
      if (out === undefined) throw e;
      out.errors.push(e);
    }
  }

  /** Backtest, at the end of a run: the fills decided and not yet handed over reach the strategy. */
  finish(out: DriverOutput): void {
    if (this.#sim === undefined) return;
    for (const f of this.#sim.rest()) this.deliverFill(f, out);
  }

  /** The driver's own state for a snapshot: clock, instruments seen, timers, bars. */
  state(): DriverState {
    return {
      clock: this.#clock === -Infinity ? null : this.#clock,
      instruments: [...this.#inst].map(([i, x]) => [i, x.price, x.ts, x.n]),
      timers: this.#timers.state(),
      bars: this.#bars?.state() ?? null,
    };
  }

  /** Where the snapshot stands, per instrument: [timestamp of the last tick seen, ticks seen with it]. */
  positions(): Record<string, [number, number]> {
    const out: Record<string, [number, number]> = {};
    for (const [i, x] of this.#inst) out[i] = [x.ts, x.n];
    return out;
  }

  /**
   * Continue from a snapshot: its clock, timers (replacing any onStart
   * scheduled) and bars; the ticks it had already seen are skipped when they
   * come again (per instrument: older than its last timestamp, or as many of
   * that timestamp as it had seen). Throws when the state does not fit.
   */
  restore(st: DriverState): void {
    if (typeof st !== 'object' || st === null || !Array.isArray(st.instruments)) throw new Error('the runtime part of the snapshot is malformed');
    if ((st.bars === null) !== (this.#bars === undefined)) throw new Error(`the snapshot ${st.bars === null ? 'has no bars, this strategy declares some' : 'has bars, this strategy declares none'}`);
    if (st.bars !== null) this.#bars!.restore(st.bars);
    this.#timers.restore(st.timers);
    this.#clock = st.clock ?? -Infinity;
    this.#inst.clear();
    this.#resume = new Map();
    for (const [i, price, ts, n] of st.instruments) {
      this.#inst.set(i, { price, ts, n });
      this.#resume.set(i, { ts, n });
    }
    if (this.#resume.size === 0) this.#resume = undefined;
  }

  /** After a restore: a tick the snapshot already holds (true: skip it). */
  #held(tick: Tick): boolean {
    const r = this.#resume!.get(tick.instrument_token);
    if (r === undefined) return false;
    if (tick.timestamp < r.ts) return true;
    if (tick.timestamp === r.ts && r.n > 0) {
      r.n--;
      return true;
    }
    this.#resume!.delete(tick.instrument_token);
    if (this.#resume!.size === 0) this.#resume = undefined;
    return false;
  }

  /** Time moved: close time bars and fire timers due, in time order (a bar before a timer at the same time). */
  #advance(emit: boolean, out: DriverOutput): void {
    const now = this.#clock;
    const bars = this.#bars;
    for (;;) {
      const nextTimer = this.#timers.next();
      const nextBar = bars !== undefined && bars.hasTimeBars ? bars.nextEnd() : Infinity;
      const at = Math.min(nextTimer, nextBar);
      if (at > now) return;
      if (nextBar <= nextTimer) {
        const closed = [...bars!.closeUntil(nextBar)];
        for (const bar of closed) this.#onBar(bar, emit, out);
        continue;
      }
      const timer = this.#timers.pop(at)!;
      this.#onTimer(timer, emit, out);
    }
  }

  #onBar(bar: Bar, emit: boolean, out: DriverOutput): void {
    const fn = this.instance!.onBar;
    if (fn === undefined) return;
    let result: TickOutput;
    try {
      result = fn.call(this.instance, bar, this.#host.tickContext);
    } catch (err) {
      if (emit) out.errors.push(handlerError(this.#host.strategyId, 'onBar', err, `threw in onBar (${bar.spec} bar of ${bar.instrument_token} ending ${bar.end})`));
      return;
    }
    this.#emit(result, 'onBar', { instrument_token: bar.instrument_token, timestamp: bar.end, price: bar.close, origin: `bar ${bar.spec}` }, emit, out);
  }

  #onTimer(timer: Timer, emit: boolean, out: DriverOutput): void {
    const fn = this.instance!.onTimer;
    if (fn === undefined) return;
    let result: TickOutput;
    try {
      result = fn.call(this.instance, timer, this.#host.tickContext);
    } catch (err) {
      if (emit) out.errors.push(handlerError(this.#host.strategyId, 'onTimer', err, `threw in onTimer ('${timer.name}' at ${timer.at})`));
      return;
    }
    if (result === undefined || result === null) return;
    const instrument = timer.instrument ?? (this.#host.instruments.length === 1 ? this.#host.instruments[0]! : undefined);
    if (instrument === undefined) {
      if (emit) out.errors.push(invalid(this.#host.strategyId, `onTimer ('${timer.name}') returned a signal, but the timer names no instrument and the strategy has ${this.#host.instruments.length}: schedule it with { instrument }`));
      return;
    }
    const price = this.#inst.get(instrument)?.price;
    if (price === undefined) {
      if (emit) out.errors.push(invalid(this.#host.strategyId, `onTimer ('${timer.name}') returned a signal for instrument ${instrument}, which has had no tick yet: there is no price for it`));
      return;
    }
    this.#emit(result, 'onTimer', { instrument_token: instrument, timestamp: timer.at, price, origin: `timer ${timer.name}` }, emit, out);
  }

  /** Intents → signals (and backtest orders). A bad intent drops that call's whole output, as one error. */
  #emit(result: TickOutput, hook: string, at: SignalOrigin, emit: boolean, out: DriverOutput): boolean {
    const h = this.#host;
    let intents: readonly SignalIntent[];
    try {
      intents = intentsOf(result, h.strategyId, hook);
    } catch (err) {
      if (emit) out.errors.push(err as RunnerError);
      return false;
    }
    if (intents.length === 0) return true;
    for (let e = 0; e < intents.length; e++) {
      const bad = invalidIntent(intents[e]);
      if (bad !== undefined) {
        if (emit) out.errors.push(invalid(h.strategyId, `${hook} output #${e} is invalid: ${bad}`));
        return false;
      }
    }
    if (!emit) return true;
    const from = out.signals.length;
    for (let e = 0; e < intents.length; e++) buildSignals(intents[e]!, e, at, h.strategyId, h.strategyType, h.brokers, out.signals);
    const sim = this.#sim;
    if (sim !== undefined) {
      for (let k = from; k < out.signals.length; k++) {
        const f = sim.submit(out.signals[k]!, this.#clock);
        if (f !== undefined) out.fills.push(f);
      }
    }
    return true;
  }
}

/** A handler (onTick, onBar, onTimer) threw: STRATEGY_TICK_FAILED naming the strategy, the hook and what it was handling. */
function handlerError(strategyId: string, hook: string, err: unknown, what: string): RunnerError {
  if (err instanceof RunnerError) return err;
  return new RunnerError('STRATEGY_TICK_FAILED', `strategy '${strategyId}' ${what}: ${(err as Error)?.message ?? String(err)}`, {
    cause: err,
    details: { strategy_id: strategyId, hook },
  });
}

function invalid(strategyId: string, message: string): RunnerError {
  return new RunnerError('STRATEGY_OUTPUT_INVALID', `strategy '${strategyId}': ${message}`, { details: { strategy_id: strategyId } });
}

/** Give a context the driver's clock and timers (`ctx.now()`, `ctx.schedule()`, `ctx.cancel()`), through whichever driver is current. */
export function timeMethods(driver: () => StrategyDriver): Pick<StrategyContext, 'now' | 'schedule' | 'cancel'> {
  return {
    now: () => driver().now(),
    schedule: (spec: TimerSpec) => driver().schedule(spec),
    cancel: (timer: Timer | number) => driver().cancel(timer),
  };
}
