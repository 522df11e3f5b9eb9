import type { z } from 'zod';
import type { Fill } from '../../domain/fill.js';
import type { SignalIntent } from '../../domain/signal.js';
import type { Tick } from '../../domain/tick.js';
import type { Bar, BarSpec } from '../engine/bars.js';
import type { Timer } from '../engine/timers.js';
import { DEFINITION_BRAND } from './define-strategy.js';
import type { StrategyContext, StrategyDefinition, StrategyInstance, TickContext, TickOutput } from './types.js';

/** Brand on the BaseStrategy constructor, inherited by every subclass (works across copies of this package). */
export const BASE_STRATEGY_BRAND: unique symbol = Symbol.for('strategy-runner.base-strategy') as never;

/**
 * The inheritance style. Subclasses declare their type and parameter schema as
 * statics and implement onTick:
 *
 * ```ts
 * export class Breakout extends BaseStrategy<{ window: number }> {
 *   static readonly type = 'Breakout';
 *   static readonly params = z.object({ window: z.number().int().min(2).default(20) });
 *   onTick(tick: Tick, ctx: TickContext) { ... return this.buy('new high'); }
 * }
 * ```
 * The registry accepts such a class directly.
 */
export abstract class BaseStrategy<P = Record<string, unknown>> implements StrategyInstance {
  static readonly [BASE_STRATEGY_BRAND] = true;

  /** replaced by the runtime before onParams when the strategy takes new parameters live */
  params: P;
  readonly context: StrategyContext;

  constructor(params: P, context: StrategyContext) {
    this.params = params;
    this.context = context;
  }

  get strategyId(): string {
    return this.context.strategyId;
  }

  abstract onTick(tick: Tick, ctx: TickContext): TickOutput;
  onFill?(fill: Fill, ctx: TickContext): void;
  onBar?(bar: Bar, ctx: TickContext): TickOutput;
  onTimer?(timer: Timer, ctx: TickContext): TickOutput;
  onStart?(ctx: StrategyContext): void | Promise<void>;
  onStop?(ctx: StrategyContext): void | Promise<void>;
  onParams?(next: P, previous: P, ctx: StrategyContext): void;
  onSave?(): unknown;
  onLoad?(state: unknown, ctx: StrategyContext): void;

  protected buy(quantity?: number, reason?: string): SignalIntent {
    return intent('BUY', quantity, reason);
  }

  protected sell(quantity?: number, reason?: string): SignalIntent {
    return intent('SELL', quantity, reason);
  }
}

function intent(side: 'BUY' | 'SELL', quantity: number | undefined, reason: string | undefined): SignalIntent {
  const i: SignalIntent = { side };
  if (quantity !== undefined) i.quantity = quantity;
  if (reason !== undefined) i.reason = reason;
  return i;
}

/** A concrete BaseStrategy subclass with its statics. */
export interface StrategyClass<S extends z.ZodType = z.ZodType> {
  new (params: z.output<S>, context: StrategyContext): BaseStrategy<z.output<S>>;
  readonly type: string;
  readonly params: S;
  readonly description?: string;
  readonly bars?: readonly BarSpec[];
  readonly snapshotVersion?: number;
}

export function isStrategyClass(value: unknown): value is StrategyClass {
  if (typeof value !== 'function' || value === BaseStrategy) return false;
  const c = value as unknown as Record<string | symbol, unknown>;
  // A shared abstract base class without its own type and params is a helper, not a strategy.
  const params = c['params'] as { safeParse?: unknown } | undefined;
  return c[BASE_STRATEGY_BRAND] === true && typeof c['type'] === 'string' && typeof params?.safeParse === 'function';
}

/** Turn a BaseStrategy subclass into a definition (the registry does this for you). */
export function definitionFromClass<S extends z.ZodType>(cls: StrategyClass<S>): StrategyDefinition<S> {
  const def: StrategyDefinition<S> = {
    type: cls.type,
    params: cls.params,
    create: (params, ctx) => new cls(params, ctx),
  };
  return Object.freeze({
    ...def,
    ...(cls.description === undefined ? {} : { description: cls.description }),
    ...(cls.bars === undefined ? {} : { bars: cls.bars }),
    ...(cls.snapshotVersion === undefined ? {} : { snapshotVersion: cls.snapshotVersion }),
    [DEFINITION_BRAND]: true,
  });
}
