import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Fill } from '../../domain/fill.js';
import type { PortfolioView } from '../../domain/portfolio.js';
import type { SignalIntent } from '../../domain/signal.js';
import type { Tick } from '../../domain/tick.js';
import type { Bar, BarSpec } from '../engine/bars.js';
import type { Timer, TimerSpec } from '../engine/timers.js';

/** Fixed facts about one running strategy, given to create() and every hook. */
export interface StrategyContext {
  readonly strategyId: string;
  readonly strategyType: string;
  readonly instruments: readonly number[];
  readonly brokers: readonly string[];
  /** A pino logger with `strategy_id` bound. Never log per tick at info level. */
  readonly logger: Logger;
  /** The strategy's event time: the latest timestamp of the ticks it has received (epoch ms; −Infinity before the first). Never the wall clock. */
  now(): number;
  /**
   * A timer by event time: `{ at }` once, `{ every: ms | '1m' }` at every
   * multiple of the period since the epoch. `onTimer` gets it when the
   * strategy's clock reaches it, before the tick that got there. `name`
   * labels it (in signals: `origin`), `instrument` prices its signals.
   */
  schedule(spec: TimerSpec): Timer;
  /** Cancel a timer; false if it had already fired (a one-off) or was cancelled. */
  cancel(timer: Timer | number): boolean;
}

/** What onTick and onFill see: the fixed facts plus the strategy's own portfolio, current as of this tick. */
export interface TickContext extends StrategyContext {
  readonly portfolio: PortfolioView;
}

/** What onTick, onBar and onTimer may return. */
export type TickOutput = SignalIntent | readonly SignalIntent[] | null | undefined | void;

/** A live strategy: created once per strategy configuration, inside its worker thread. */
export interface StrategyInstance {
  /** Synchronous and pure apart from the instance's own state: it runs on the hot path. */
  onTick(tick: Tick, ctx: TickContext): TickOutput;
  onFill?(fill: Fill, ctx: TickContext): void;
  /** A bar the definition declared (`bars`) has closed. Synchronous. */
  onBar?(bar: Bar, ctx: TickContext): TickOutput;
  /** A timer of `ctx.schedule()` is due. Synchronous. */
  onTimer?(timer: Timer, ctx: TickContext): TickOutput;
  onStart?(ctx: StrategyContext): void | Promise<void>;
  onStop?(ctx: StrategyContext): void | Promise<void>;
  /**
   * New parameters (validated and defaulted like the first ones) while the
   * strategy runs: with this hook it takes them and keeps its state; without
   * it, a parameter change restarts the strategy. Synchronous; a throw
   * restarts it with the new parameters.
   */
  onParams?(next: unknown, previous: unknown, ctx: StrategyContext): void;
  /**
   * The strategy's state as JSON-serialisable data, for a snapshot (taken at
   * `snapshots.intervalMs` and at shutdown). With onLoad, a restart continues
   * from it instead of from nothing. Synchronous; keep it small.
   */
  onSave?(): unknown;
  /**
   * Restore what onSave returned, after onStart. The runtime restores its own
   * part with it (clock, timers, bars): timers scheduled in onStart are
   * replaced by the snapshot's. A throw discards the snapshot (a fresh start).
   */
  onLoad?(state: unknown, ctx: StrategyContext): void;
}

/** The composition style: a plain object describing a strategy type. */
export interface StrategyDefinition<S extends z.ZodType = z.ZodType> {
  /** The `strategy_type` string used in configurations. */
  readonly type: string;
  readonly description?: string;
  /** Validates (and defaults) the configuration's `parameters` object. */
  readonly params: S;
  /**
   * The format of what onSave returns: bump it when that changes, and older
   * snapshots are ignored (with a warning) instead of handed to onLoad. Default 1.
   */
  readonly snapshotVersion?: number;
  /** Bars the runtime builds from each of the strategy's instruments and hands to onBar. */
  readonly bars?: readonly BarSpec[];
  create(params: z.output<S>, ctx: StrategyContext): StrategyInstance;
}

export type AnyStrategyDefinition = StrategyDefinition<z.ZodType>;
