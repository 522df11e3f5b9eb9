import { z } from 'zod';
import { defineStrategy } from '../../src/strategies/sdk/define-strategy.js';

/**
 * A CPU-bound strategy: per tick, `work` rounds of floating-point arithmetic
 * on a state the result feeds back into (so nothing can be hoisted or
 * skipped), standing in for an indicator or a model. About 8.5 ns per
 * round on the benchmark host: 2,500 rounds ≈ 21 µs per tick, 10,000 ≈
 * 85 µs. Emits a signal on every `every`-th tick, like BenchTrivial, so
 * signals stay a small share.
 */
export const Heavy = defineStrategy({
  type: 'BenchHeavy',
  params: z.object({ work: z.number().int().min(0).default(2500), every: z.number().int().min(1).default(1000) }),
  create(params) {
    let n = 0;
    let acc = 1;
    return {
      onTick(tick) {
        n++;
        let x = acc + tick.last_price * 1e-6;
        for (let i = 0; i < params.work; i++) x = x * 0.999_999 + Math.sqrt(x + i) * 1e-9;
        acc = x;
        return n % params.every === 0 ? { side: acc > 0 ? 'BUY' : 'SELL' } : undefined;
      },
    };
  },
});
