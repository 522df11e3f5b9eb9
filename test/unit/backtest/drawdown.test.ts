import { describe, it, expect } from 'vitest';
import { maxDrawdown } from '../../../src/backtest/drawdown.js';
import type { EquityPoint } from '../../../src/backtest/report.js';

const curve = (...equities: number[]): EquityPoint[] => equities.map((equity, i) => ({ timestamp: 1000 * i, equity }));

describe('maxDrawdown', () => {
  it('takes the larger of two falls from two peaks', () => {
    // 100 → 120 (peak 1) → 90: a fall of 30 (30/120 = 25%)
    //     → 130 (peak 2) → 95: a fall of 35 (35/130 ≈ 26.9%) → 140
    const dd = maxDrawdown(curve(100, 120, 90, 130, 95, 140));
    expect(dd.amount).toBe(35);
    expect(dd.fraction).toBeCloseTo(35 / 130, 12);
    expect(dd.peak).toEqual({ timestamp: 3000, equity: 130 });
    expect(dd.trough).toEqual({ timestamp: 4000, equity: 95 });
  });

  it('measures from the running peak, not from a later lower high', () => {
    // 100 → 120 → 90 → 110 → 80: the fall is 120 − 80 = 40 (110 is not a new peak)
    const dd = maxDrawdown(curve(100, 120, 90, 110, 80));
    expect(dd.amount).toBe(40);
    expect(dd.peak).toEqual({ timestamp: 1000, equity: 120 });
    expect(dd.trough).toEqual({ timestamp: 4000, equity: 80 });
  });

  it('ranks by amount: the fraction is that fall’s own', () => {
    // 50 → 40: 10 (20%); 200 → 170: 30 (15%). The larger amount wins: 30, 0.15.
    const dd = maxDrawdown(curve(50, 40, 200, 170));
    expect(dd.amount).toBe(30);
    expect(dd.fraction).toBeCloseTo(0.15, 12);
  });

  it('keeps the earliest of equal falls', () => {
    const dd = maxDrawdown(curve(100, 90, 100, 90));
    expect(dd.peak).toEqual({ timestamp: 0, equity: 100 });
    expect(dd.trough).toEqual({ timestamp: 1000, equity: 90 });
  });

  it('has no fraction when the peak is not positive', () => {
    // initial cash 0: 0 → −10 is a fall of 10 from a peak of 0
    expect(maxDrawdown(curve(0, -10, -5))).toEqual({
      amount: 10,
      fraction: null,
      peak: { timestamp: 0, equity: 0 },
      trough: { timestamp: 1000, equity: -10 },
    });
  });

  it('is zero for a rising, flat, single-point or empty curve', () => {
    const none = { amount: 0, fraction: 0, peak: null, trough: null };
    expect(maxDrawdown(curve(1, 2, 3))).toEqual(none);
    expect(maxDrawdown(curve(5, 5, 5))).toEqual(none);
    expect(maxDrawdown(curve(5))).toEqual(none);
    expect(maxDrawdown([])).toEqual(none);
  });
});
