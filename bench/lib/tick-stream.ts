import { mulberry32 } from '../../src/sim/prng.js';
import { tickLines } from './workload.js';

/**
 * The same tick lines as workload.ts `tickLines(count, instruments, seed)`,
 * made one at a time (endless): the memory benchmark must not hold its input
 * in memory while it measures memory. `checkTickStream()` verifies the two
 * agree.
 */
export function* tickLineStream(instruments = 1000, seed = 2): Generator<string, never> {
  const rand = mulberry32(seed);
  const prices = new Float64Array(instruments).fill(1000);
  let ts = 1_700_000_000_000;
  for (let i = 0; ; i++) {
    const k = Math.floor(rand() * instruments);
    prices[k] = Math.max(1, prices[k]! * (1 + (rand() - 0.5) * 0.004));
    ts += 1;
    yield `{"instrument_token":${100_000 + k},"last_price":${prices[k]!.toFixed(2)},"timestamp":${ts},"volume":${i}}`;
  }
}

/** Throws unless the stream yields exactly workload.ts `tickLines` (first `n` lines). */
export function checkTickStream(n = 5000): void {
  const expected = tickLines(n);
  const stream = tickLineStream();
  for (let i = 0; i < n; i++) {
    const got = stream.next().value;
    if (got !== expected[i]) throw new Error(`tickLineStream differs from workload tickLines at line ${i}: ${got} vs ${expected[i]}`);
  }
}
