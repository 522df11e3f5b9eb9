import { describe, expect, it } from 'vitest';
import { MACD } from '../../../../src/strategies/indicators/index.js';
import { randomWalk } from './series.js';

/** EMA seeded with its first input, as a plain recursion: the SDK's convention. */
function emaSeries(xs: readonly number[], period: number): number[] {
  const a = 2 / (period + 1);
  const out: number[] = [];
  for (let i = 0; i < xs.length; i++) out.push(i === 0 ? xs[0]! : a * xs[i]! + (1 - a) * out[i - 1]!);
  return out;
}

describe('MACD', () => {
  it('fast 2, slow 3, signal 2 on 1, 2, 3, 4 (hand-computed)', () => {
    // fast EMA(2), α = 2/3: 1, 5/3, 2·3/3 + 5/9 = 23/9, 8/3 + 23/27 = 95/27
    // slow EMA(3), α = 1/2: 1, 1.5, 2.25, 3.125 = 25/8
    // MACD from update 3 (slow): 23/9 − 9/4 = 11/36; update 4: 95/27 − 25/8 = 85/216
    // signal EMA(2) seeded with the first MACD value: 11/36; then 2/3 · 85/216 + 1/3 · 11/36 = 59/162
    // histogram: 85/216 − 59/162 = 255/648 − 236/648 = 19/648. Ready at update slow + signal − 1 = 4.
    const macd = new MACD({ fast: 2, slow: 3, signal: 2 });
    expect(macd.warmUp).toBe(4);
    expect([macd.update(1), macd.update(2), macd.update(3)]).toEqual([undefined, undefined, undefined]);
    expect(macd.ready).toBe(false);
    const v = macd.update(4)!;
    expect(macd.ready).toBe(true);
    expect(v.macd).toBeCloseTo(85 / 216, 14);
    expect(v.signal).toBeCloseTo(59 / 162, 14);
    expect(v.histogram).toBeCloseTo(19 / 648, 14);
  });

  it('12/26/9 by default, ready after 34 updates', () => {
    const macd = new MACD();
    expect([macd.fast, macd.slow, macd.signal, macd.warmUp]).toEqual([12, 26, 9, 34]);
    for (let i = 0; i < 33; i++) expect(macd.update(100 + i)).toBeUndefined();
    expect(macd.update(133)).toBeDefined();
    expect(macd.count).toBe(34);
  });

  it('a constant price gives 0 for all three lines', () => {
    const macd = new MACD();
    for (let i = 0; i < 40; i++) macd.update(250);
    expect(macd.value).toEqual({ macd: 0, signal: 0, histogram: 0 });
  });

  it('agrees with EMA(12) − EMA(26) and an EMA(9) of that from update 26, on 500 prices', () => {
    const prices = randomWalk(500, 11);
    const slow = emaSeries(prices, 26);
    const line = emaSeries(prices, 12).map((f, i) => f - slow[i]!);
    const signal = emaSeries(line.slice(25), 9);
    const macd = new MACD();
    prices.forEach((p, i) => {
      const v = macd.update(p);
      if (i < 33) return expect(v).toBeUndefined();
      expect(v!.macd).toBeCloseTo(line[i]!, 10);
      expect(v!.signal).toBeCloseTo(signal[i - 25]!, 10);
      expect(v!.histogram).toBeCloseTo(line[i]! - signal[i - 25]!, 10);
    });
  });

  it('rejects fast >= slow and bad periods', () => {
    expect(() => new MACD({ fast: 26, slow: 26 })).toThrow(/MACD: fast \(26\) must be shorter than slow \(26\)/);
    expect(() => new MACD({ signal: 0 })).toThrow(/MACD: signal must be an integer >= 1/);
  });
});
