import { describe, expect, it } from 'vitest';
import { ATR } from '../../../../src/strategies/indicators/index.js';

// Bars as the SDK will hand them over (only high, low and close are read).
const bar = (high: number, low: number, close: number) => ({ instrument_token: 1, open: close, high, low, close, volume: 100, vwap: close, ticks: 3, start: 0, end: 60_000 });

describe('ATR (Wilder)', () => {
  it('true range and Wilder smoothing (hand-computed, ATR(3))', () => {
    const atr = new ATR(3);
    // b0: first bar, TR = H − L = 10 − 8 = 2
    expect(atr.update(bar(10, 8, 9))).toBeUndefined();
    // b1: TR = max(11 − 9, |11 − 9|, |9 − 9|) = 2
    expect(atr.update(bar(11, 9, 10.5))).toBeUndefined();
    // b2: TR = max(12 − 10, |12 − 10.5|, |10 − 10.5|) = 2 → first ATR = (2 + 2 + 2)/3 = 2
    expect(atr.update(bar(12, 10, 11))).toBe(2);
    // b3, gap up: TR = max(15 − 11, |15 − 11|, |11 − 11|) = 4 → (2·2 + 4)/3 = 8/3
    expect(atr.update(bar(15, 11, 14))).toBeCloseTo(8 / 3, 14);
    // b4, gap down: TR = max(10 − 9, |10 − 14|, |9 − 14|) = 5 → (8/3·2 + 5)/3 = 31/9
    expect(atr.update(bar(10, 9, 9.5))).toBeCloseTo(31 / 9, 14);
    expect([atr.count, atr.ready]).toEqual([5, true]);
  });

  it('takes any { high, low, close }; on ticks (high = low = close) the true range is |Δprice|', () => {
    const atr = new ATR(2);
    const tick = (p: number) => ({ high: p, low: p, close: p });
    // TR: 0 (first: H − L), |102 − 100| = 2 → (0 + 2)/2 = 1; then |101 − 102| = 1 → (1·1 + 1)/2 = 1
    expect([atr.update(tick(100)), atr.update(tick(102)), atr.update(tick(101))]).toEqual([undefined, 1, 1]);
  });

  it('defaults to 14 and rejects a bad period', () => {
    expect([new ATR().period, new ATR().warmUp]).toEqual([14, 14]);
    expect(() => new ATR(0)).toThrow(/ATR: period must be an integer >= 1/);
  });
});
