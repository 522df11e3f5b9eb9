import { mulberry32 } from '../../src/sim/prng.js';
import type { Tick } from '../../src/domain/tick.js';

/** Ticks at 1-second spacing from a fixed epoch, for the given token and prices. */
export function ticksOf(token: number, prices: readonly number[], startMs = 1_700_000_000_000): Tick[] {
  return prices.map((p, i) => ({ instrument_token: token, last_price: p, timestamp: startMs + i * 1000 }));
}

/** Interleave several per-instrument series by timestamp (stable). */
export function mergeTicks(...series: Tick[][]): Tick[] {
  return series
    .flat()
    .map((t, i) => ({ t, i }))
    .sort((a, b) => a.t.timestamp - b.t.timestamp || a.i - b.i)
    .map((x) => x.t);
}

/** A deterministic random walk over several instruments (seeded). */
export function randomWalk(tokens: readonly number[], count: number, seed = 42): Tick[] {
  const rand = mulberry32(seed);
  const prices = new Map(tokens.map((t) => [t, 1000 + t % 1000]));
  const out: Tick[] = [];
  for (let i = 0; i < count; i++) {
    const token = tokens[Math.floor(rand() * tokens.length)]!;
    const p = Math.max(1, Math.round(prices.get(token)! * (1 + (rand() - 0.5) * 0.01) * 100) / 100);
    prices.set(token, p);
    out.push({ instrument_token: token, last_price: p, timestamp: 1_700_000_000_000 + i * 10 });
  }
  return out;
}
