import { describe, expect, it } from 'vitest';
import { SMA } from '../../../../src/strategies/indicators/index.js';
import { feed, randomWalk } from './series.js';

describe('SMA', () => {
  it('averages the last `period` values (hand-computed)', () => {
    // SMA(3) of 1, 2, 3, 4, 5: (1+2+3)/3 = 2, (2+3+4)/3 = 3, (3+4+5)/3 = 4
    expect(feed(new SMA(3), [1, 2, 3, 4, 5])).toEqual([undefined, undefined, 2, 3, 4]);
    // SMA(3) of 10, 11, 12.5, 7: 33.5/3 = 11.1666…, (11 + 12.5 + 7)/3 = 30.5/3 = 10.1666…
    const v = feed(new SMA(3), [10, 11, 12.5, 7]);
    expect(v[2]).toBeCloseTo(11.166666666666666, 12);
    expect(v[3]).toBeCloseTo(10.166666666666666, 12);
  });

  it('warms up for `period` updates, then stays ready', () => {
    const sma = new SMA(3);
    expect([sma.ready, sma.value, sma.count, sma.warmUp, sma.period]).toEqual([false, undefined, 0, 3, 3]);
    expect(sma.update(1)).toBeUndefined();
    expect(sma.update(2)).toBeUndefined();
    expect([sma.ready, sma.count]).toEqual([false, 2]);
    expect(sma.update(3)).toBe(2);
    expect([sma.ready, sma.value, sma.count]).toEqual([true, 2, 3]);
    sma.update(4);
    expect([sma.ready, sma.value]).toEqual([true, 3]);
  });

  it('SMA(1) is the price itself', () => {
    expect(feed(new SMA(1), [5, 6.5, 7])).toEqual([5, 6.5, 7]);
  });

  it('equals the window mean summed afresh, to the bit, after 100,000 updates (no running-sum drift)', () => {
    const prices = randomWalk(100_000, 3);
    const sma = new SMA(20);
    for (const p of prices) sma.update(p);
    let sum = 0;
    for (let i = prices.length - 20; i < prices.length; i++) sum += prices[i]!;
    expect(sma.value).toBe(sum / 20);
  });

  it.each([0, -1, 1.5, NaN])('rejects period %s', (period) => {
    expect(() => new SMA(period)).toThrow(RangeError);
    expect(() => new SMA(period)).toThrow(/SMA: period must be an integer >= 1/);
  });
});
