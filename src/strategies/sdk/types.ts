import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Fill } from '../../domain/fill.js';
import type { PortfolioView } from '../../domain/portfolio.js';
import type { SignalIntent } from '../../domain/signal.js';
import type { Tick } from '../../domain/tick.js';

/** Fixed facts about one running strategy, given to create() and every hook. */
export interface StrategyContext {
  readonly strategyId: string;
  readonly strategyType: string;
  readonly instruments: readonly number[];
  readonly brokers: readonly string[];
  /** A pino logger with `strategy_id` bound. Never log per tick at info level. */
  readonly logger: Logger;
}

/** What onTick and onFill see: the fixed facts plus the strategy's own portfolio, current as of this tick. */
export interface TickContext extends StrategyContext {
  readonly portfolio: PortfolioView;
}

/** What onTick may return. */
export type TickOutput = SignalIntent | readonly SignalIntent[] | null | undefined | void;

/** A live strategy: created once per strategy configuration, inside its worker thread. */
export interface StrategyInstance {
  /** Synchronous and pure apart from the instance's own state: it runs on the hot path. */
  onTick(tick: Tick, ctx: TickContext): TickOutput;
  onFill?(fill: Fill, ctx: TickContext): void;
  onStart?(ctx: StrategyContext): void | Promise<void>;
  onStop?(ctx: StrategyContext): void | Promise<void>;
}

/** The composition style: a plain object describing a strategy type. */
export interface StrategyDefinition<S extends z.ZodType = z.ZodType> {
  /** The `strategy_type` string used in configurations. */
  readonly type: string;
  readonly description?: string;
  /** Validates (and defaults) the configuration's `parameters` object. */
  readonly params: S;
  create(params: z.output<S>, ctx: StrategyContext): StrategyInstance;
}

export type AnyStrategyDefinition = StrategyDefinition<z.ZodType>;
