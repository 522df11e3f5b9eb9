import type { z } from 'zod';
import type { StrategyDefinition } from './types.js';

/** Brand carried by every definition made with defineStrategy or BaseStrategy.definition(). */
export const DEFINITION_BRAND: unique symbol = Symbol.for('strategy-runner.definition') as never;

/**
 * Define a strategy type in the composition style:
 *
 * ```ts
 * export default defineStrategy({
 *   type: 'Breakout',
 *   params: z.object({ window: z.number().int().min(2).default(20) }),
 *   create(params, ctx) {
 *     return { onTick(tick) { ... return { side: 'BUY' } } };
 *   },
 * });
 * ```
 */
export function defineStrategy<S extends z.ZodType>(def: StrategyDefinition<S>): StrategyDefinition<S> {
  return Object.freeze({ ...def, [DEFINITION_BRAND]: true });
}
