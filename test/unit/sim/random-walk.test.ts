import { describe, expect, it } from 'vitest';
import { DEFAULT_INSTRUMENTS } from '../../../src/sim/instruments.js';
import { RandomWalk, randomWalkTicks } from '../../../src/sim/random-walk.js';

const onGrid = (p: number): boolean => Math.abs(p * 20 - Math.round(p * 20)) < 1e-6;

describe('RandomWalk', () => {
  it('gives the same tokens, prices and volumes for the same seed, and others for another seed', () => {
    const o = { instruments: DEFAULT_INSTRUMENTS, seed: 7 };
    const a = randomWalkTicks(o, 2000);
    expect(randomWalkTicks(o, 2000)).toEqual(a);
    const w = new RandomWalk(o);
    expect([...w.take(1000), ...w.take(1000)]).toEqual(a); // taking in pieces changes nothing
    expect(randomWalkTicks({ ...o, seed: 8 }, 2000)).not.toEqual(a);
  });

  it('picks only the given instruments, all of them, with positive on-grid prices and growing volume', () => {
    const ticks = randomWalkTicks({ instruments: [1, 2, 3], seed: 1, volatility: 0.01 }, 3000);
    expect(new Set(ticks.map((t) => t.instrument_token))).toEqual(new Set([1, 2, 3]));
    const lastVolume = new Map<number, number>();
    for (const t of ticks) {
      expect(t.last_price).toBeGreaterThan(0);
      expect(onGrid(t.last_price)).toBe(true);
      expect(t.volume).toBeGreaterThan(lastVolume.get(t.instrument_token) ?? 0);
      lastVolume.set(t.instrument_token, t.volume);
    }
  });

  it('starts the known NSE tokens near realistic prices, or at --start-price, and moves with the volatility', () => {
    const first = new Map<number, number>();
    for (const t of randomWalkTicks({ instruments: DEFAULT_INSTRUMENTS, seed: 3 }, 200)) if (!first.has(t.instrument_token)) first.set(t.instrument_token, t.last_price);
    expect(first.get(256265)).toBeGreaterThan(23_000);
    expect(first.get(256265)).toBeLessThan(24_000);
    expect(first.get(738561)).toBeGreaterThan(1_200);
    expect(first.get(738561)).toBeLessThan(1_330);

    const flat = randomWalkTicks({ instruments: [5], seed: 3, startPrice: 100, volatility: 0 }, 50);
    expect(new Set(flat.map((t) => t.last_price))).toEqual(new Set([100]));

    // Log returns of one instrument have about the requested standard deviation.
    const prices = randomWalkTicks({ instruments: [9], seed: 11, startPrice: 1_000_000, volatility: 0.002 }, 5000).map((t) => t.last_price);
    const r = prices.slice(1).map((p, i) => Math.log(p / prices[i]!));
    const sd = Math.sqrt(r.reduce((s, x) => s + x * x, 0) / r.length);
    expect(sd).toBeGreaterThan(0.0018);
    expect(sd).toBeLessThan(0.0022);
  });

  it('keeps small prices moving (the exact price is kept, only the output is rounded)', () => {
    const prices = randomWalkTicks({ instruments: [1], seed: 5, startPrice: 2, volatility: 0.005 }, 5000).map((t) => t.last_price);
    expect(new Set(prices).size).toBeGreaterThan(3);
  });

  it('rejects impossible options', () => {
    expect(() => new RandomWalk({ instruments: [], seed: 1 })).toThrow(RangeError);
    expect(() => new RandomWalk({ instruments: [1], seed: 1, volatility: -1 })).toThrow(RangeError);
    expect(() => new RandomWalk({ instruments: [1], seed: 1, startPrice: 0 })).toThrow(RangeError);
  });
});
