import { describe, expect, it } from 'vitest';
import { EMA } from '../../../../src/strategies/indicators/index.js';
import { feed } from './series.js';

describe('EMA', () => {
  it('is seeded with the first price, α = 2/(period+1) (hand-computed)', () => {
    // EMA(3): α = 2/4 = 0.5. EMA_0 = 1; 0.5·2 + 0.5·1 = 1.5; 0.5·3 + 0.5·1.5 = 2.25 (ready);
    // 0.5·4 + 0.5·2.25 = 3.125; 0.5·5 + 0.5·3.125 = 4.0625. (An SMA seed would give 2, 3, 4.)
    expect(feed(new EMA(3), [1, 2, 3, 4, 5])).toEqual([undefined, undefined, 2.25, 3.125, 4.0625]);
  });

  it('EMA(4), α = 0.4 (hand-computed)', () => {
    // EMA_0 = 10; 0.4·20 + 0.6·10 = 14; 0.4·10 + 0.6·14 = 12.4; 0.4·30 + 0.6·12.4 = 19.44 (ready)
    const v = feed(new EMA(4), [10, 20, 10, 30]);
    expect(v.slice(0, 3)).toEqual([undefined, undefined, undefined]);
    expect(v[3]).toBeCloseTo(19.44, 12);
  });

  it('warms up for `period` updates', () => {
    const ema = new EMA(3);
    ema.update(1);
    ema.update(2);
    expect([ema.ready, ema.value, ema.count, ema.warmUp]).toEqual([false, undefined, 2, 3]);
    ema.update(3);
    expect([ema.ready, ema.value, ema.count]).toEqual([true, 2.25, 3]);
  });

  it('EMA(1) is the price itself (α = 1)', () => {
    expect(feed(new EMA(1), [5, 6.5, 7])).toEqual([5, 6.5, 7]);
  });

  it('forgets its seed: from a constant price it converges on it', () => {
    const ema = new EMA(5);
    ema.update(0);
    for (let i = 0; i < 200; i++) ema.update(50);
    // gap after 200 updates: 50 · (2/3)^200 ≈ 5e-34
    expect(ema.value).toBeCloseTo(50, 12);
  });

  it.each([0, 2.5])('rejects period %s', (period) => {
    expect(() => new EMA(period)).toThrow(/EMA: period must be an integer >= 1/);
  });
});
