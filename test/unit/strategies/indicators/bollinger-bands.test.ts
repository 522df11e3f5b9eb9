import { describe, expect, it } from 'vitest';
import { BollingerBands } from '../../../../src/strategies/indicators/index.js';
import { randomWalk } from './series.js';

describe('BollingerBands', () => {
  it('SMA ± multiplier · population σ (hand-computed, period 3)', () => {
    // 1, 2, 3: mean 2, population variance (1 + 0 + 1)/3 = 2/3, σ = √(2/3) = 0.816496…
    // upper 2 + 2σ = 3.632993…, lower 2 − 2σ = 0.367007…  (a sample σ, /2, would be 1: bands 0 and 4)
    const bb = new BollingerBands(3, 2);
    bb.update(1);
    bb.update(2);
    expect(bb.ready).toBe(false);
    const v = bb.update(3)!;
    const sigma = Math.sqrt(2 / 3);
    expect(v.middle).toBe(2);
    expect(v.upper).toBeCloseTo(2 + 2 * sigma, 12);
    expect(v.lower).toBeCloseTo(2 - 2 * sigma, 12);
    // 2, 3, 4: the same σ, mean 3
    const w = bb.update(4)!;
    expect(w.middle).toBe(3);
    expect(w.upper - w.middle).toBeCloseTo(2 * sigma, 12);
  });

  it('(20, 2) by default; on 20 prices the bands are the window mean ± 2 population σ', () => {
    const bb = new BollingerBands();
    expect([bb.period, bb.multiplier, bb.warmUp]).toEqual([20, 2, 20]);
    const prices = randomWalk(20, 5);
    prices.forEach((p) => bb.update(p));
    const mean = prices.reduce((s, p) => s + p, 0) / 20;
    const sigma = Math.sqrt(prices.reduce((s, p) => s + (p - mean) ** 2, 0) / 20);
    expect(bb.value!.middle).toBeCloseTo(mean, 12);
    expect(bb.value!.upper).toBeCloseTo(mean + 2 * sigma, 12);
    expect(bb.value!.lower).toBeCloseTo(mean - 2 * sigma, 12);
  });

  it('a constant price collapses the bands onto it', () => {
    const bb = new BollingerBands(5, 2.5);
    for (let i = 0; i < 7; i++) bb.update(42.5);
    expect(bb.value).toEqual({ upper: 42.5, middle: 42.5, lower: 42.5 });
  });

  it('rejects a bad period or multiplier', () => {
    expect(() => new BollingerBands(0)).toThrow(/BollingerBands: period must be an integer >= 1/);
    expect(() => new BollingerBands(20, 0)).toThrow(/multiplier must be a finite number > 0, got 0/);
    expect(() => new BollingerBands(20, Infinity)).toThrow(RangeError);
  });
});
