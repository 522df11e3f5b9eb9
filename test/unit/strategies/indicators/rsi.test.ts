import { describe, expect, it } from 'vitest';
import { RSI } from '../../../../src/strategies/indicators/index.js';
import { feed } from './series.js';

// StockCharts' worked example of Wilder's RSI(14) (ChartSchool, "Relative Strength Index", cs-rsi.xls):
// 33 closes and the 19 RSI values it publishes, from the 15th close on, to two decimals.
const CLOSES = [
  44.3389, 44.0902, 44.1497, 43.6124, 44.3278, 44.8264, 45.0955, 45.4245, 45.8433, 46.0826, 45.8931, 46.0328, 45.614, 46.282, 46.282, 46.0028, 46.0328,
  46.4116, 46.2222, 45.6439, 46.2122, 46.2521, 45.7137, 46.4515, 45.7835, 45.3548, 44.0288, 44.1783, 44.2181, 44.5672, 43.4205, 42.6628, 43.1314,
];
const PUBLISHED = [70.53, 66.32, 66.55, 69.41, 66.36, 57.97, 62.93, 63.26, 56.06, 62.38, 54.71, 50.42, 39.99, 41.46, 41.87, 45.46, 37.3, 33.08, 37.77];

describe('RSI (Wilder)', () => {
  it("reproduces StockCharts' RSI(14) example", () => {
    // First value, by hand: the 14 changes are −0.2487, +0.0595, −0.5373, +0.7154, +0.4986, +0.2691, +0.3290,
    // +0.4188, +0.2393, −0.1895, +0.1397, −0.4188, +0.6680, 0. Gains sum to 3.3374, losses to 1.3943:
    // avg gain 3.3374/14 = 0.238386, avg loss 1.3943/14 = 0.099593, RS = 2.393603, RSI = 100 − 100/3.393603 = 70.5328.
    const v = feed(new RSI(14), CLOSES);
    expect(v.slice(0, 14)).toEqual(Array(14).fill(undefined));
    expect(v[14]).toBeCloseTo(70.5328, 4);
    const published = v.slice(14);
    expect(published).toHaveLength(PUBLISHED.length);
    published.forEach((x, i) => expect(x, `RSI at close ${i + 15}`).toBeCloseTo(PUBLISHED[i]!, 2));
  });

  it('smooths the averages the Wilder way (hand-computed, RSI(2))', () => {
    // prices 1, 2, 3: changes +1, +1 → avg gain (1+1)/2 = 1, avg loss 0 → RSI 100
    // price 2: change −1 → gain (1·1 + 0)/2 = 0.5, loss (0·1 + 1)/2 = 0.5 → RS 1 → RSI 50
    // price 4: change +2 → gain (0.5 + 2)/2 = 1.25, loss (0.5 + 0)/2 = 0.25 → RS 5 → 100 − 100/6 = 83.333…
    const v = feed(new RSI(2), [1, 2, 3, 2, 4]);
    expect(v.slice(0, 4)).toEqual([undefined, undefined, 100, 50]);
    expect(v[4]).toBeCloseTo(83.33333333333333, 12);
  });

  it('warms up for period + 1 updates', () => {
    const rsi = new RSI(3);
    expect([rsi.period, rsi.warmUp]).toEqual([3, 4]);
    for (const p of [10, 11, 12]) rsi.update(p);
    expect([rsi.ready, rsi.value, rsi.count]).toEqual([false, undefined, 3]);
    rsi.update(11);
    expect(rsi.ready).toBe(true);
  });

  it('defaults to 14', () => {
    expect(new RSI().period).toBe(14);
  });

  it('a price that never moved gives 100 (the convention for an average loss of 0)', () => {
    expect(feed(new RSI(3), [5, 5, 5, 5, 5]).slice(3)).toEqual([100, 100]);
  });

  it('rejects a period below 2', () => {
    expect(() => new RSI(1)).toThrow(/RSI: period must be an integer >= 2, got 1/);
  });
});
