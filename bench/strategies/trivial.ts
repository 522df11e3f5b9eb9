import { z } from 'zod';
import { defineStrategy } from '../../src/strategies/sdk/define-strategy.js';

/**
 * The cheapest possible strategy: counts ticks, emits a signal on every
 * 1,000th. What the runtime costs with next to nothing to run.
 */
export const Trivial = defineStrategy({
  type: 'BenchTrivial',
  params: z.object({ every: z.number().int().min(1).default(1000) }),
  create(params) {
    let n = 0;
    return {
      onTick() {
        n++;
        return n % params.every === 0 ? { side: 'BUY' } : undefined;
      },
    };
  },
});
