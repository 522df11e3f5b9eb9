import { describe, it, expect } from 'vitest';
import type { SignalIntent } from '../../../src/domain/signal.js';
import {
  MeanReversionParams,
  MeanReversionStrategy,
  meanReversionRegime,
} from '../../../src/strategies/builtin/mean-reversion.js';
import { RollingWindow } from '../../../src/strategies/rolling-window.js';
import type { TickOutput } from '../../../src/strategies/sdk/types.js';
import { fakeContext, fakeTickContext, tick } from './helpers.js';

const A = 408065;
const B = 884737;

function make(params: Record<string, unknown>): (token: number, price: number) => TickOutput {
  const ctx = fakeContext('MeanReversionStrategy', [A, B]);
  const instance = MeanReversionStrategy.create(MeanReversionStrategy.params.parse(params), ctx);
  const tctx = fakeTickContext(ctx);
  return (token, price) => instance.onTick(tick(token, price), tctx);
}

function side(out: TickOutput): string {
  if (out === undefined || out === null) return '-';
  if (Array.isArray(out)) throw new Error('MeanReversionStrategy is expected to return at most one intent');
  return (out as SignalIntent).side;
}

function sides(feed: (token: number, price: number) => TickOutput, token: number, prices: readonly number[]): string[] {
  return prices.map((p) => side(feed(token, p)));
}

function windowOf(values: number[]): RollingWindow {
  const w = new RollingWindow(values.length);
  for (const v of values) w.push(v);
  return w;
}

const SQRT3 = 1.7320508075688772;

describe('meanReversionRegime', () => {
  it('[10,10,10,6]: μ = 9, var = (1+1+1+9)/4 = 3, z = −3/√3 ≈ −1.732 → +1 (BUY) at threshold 1.5', () => {
    const r = meanReversionRegime([10, 10, 10, 6], 1.5);
    expect(r.z).toBeCloseTo(-SQRT3, 12);
    expect(r.regime).toBe(1);
  });

  it('[10,10,10,14]: μ = 11, devs −1,−1,−1,3, var = 3, z = 3/√3 ≈ 1.732 → −1 (SELL) at threshold 1.5', () => {
    const r = meanReversionRegime([10, 10, 10, 14], 1.5);
    expect(r.z).toBeCloseTo(SQRT3, 12);
    expect(r.regime).toBe(-1);
  });

  it('[10,12,8,11]: μ = 10.25, var = (0.0625+3.0625+5.0625+0.5625)/4 = 2.1875, z = 0.75/1.479 ≈ 0.507 → 0', () => {
    const r = meanReversionRegime([10, 12, 8, 11], 1.5);
    expect(r.z).toBeCloseTo(0.75 / Math.sqrt(2.1875), 12);
    expect(r.z).toBeCloseTo(0.507, 3);
    expect(r.regime).toBe(0);
  });

  it('uses the population σ (divide by N), not the sample σ (N − 1)', () => {
    // [10,10,10,6]: population σ = √3 → z ≈ −1.732; sample σ = √(12/3) = 2 → z = −1.5.
    // With threshold 1.6 the population z crosses, the sample z would not.
    const r = meanReversionRegime([10, 10, 10, 6], 1.6);
    expect(r.z).toBeCloseTo(-SQRT3, 12);
    expect(r.regime).toBe(1);
  });

  it('scores the newest (last) value against the window', () => {
    // [6,10,10,10]: newest is 10: μ = 9, σ = √3, z = 1/√3 ≈ 0.577
    expect(meanReversionRegime([6, 10, 10, 10], 1.5).z).toBeCloseTo(1 / SQRT3, 12);
  });

  it('is 0 at exactly the threshold (strict < and >)', () => {
    // [9,11,9,11]: μ = 10, every |dev| = 1, σ = 1, z = (11 − 10)/1 = 1 exactly
    expect(meanReversionRegime([9, 11, 9, 11], 1)).toEqual({ z: 1, regime: 0 });
    expect(meanReversionRegime([11, 9, 11, 9], 1)).toEqual({ z: -1, regime: 0 });
    // just under the threshold they cross
    expect(meanReversionRegime([9, 11, 9, 11], 0.99).regime).toBe(-1);
    expect(meanReversionRegime([11, 9, 11, 9], 0.99).regime).toBe(1);
  });

  it('gives z = 0 and regime 0 when σ = 0 (constant prices)', () => {
    expect(meanReversionRegime([5, 5, 5, 5], 1.5)).toEqual({ z: 0, regime: 0 });
    expect(meanReversionRegime([100, 100], 0.1)).toEqual({ z: 0, regime: 0 });
  });

  it('gives regime 0 for constant prices that are not exactly representable in binary (σ = 0 mathematically)', () => {
    // [0.1, 0.1, 0.1]: σ is 0, so the regime must be 0 whatever the threshold.
    expect(meanReversionRegime([0.1, 0.1, 0.1], 0.5).regime).toBe(0);
    expect(meanReversionRegime(Array.from({ length: 50 }, () => 100.1), 0.5).regime).toBe(0);
  });

  it('gives the same answer for a RollingWindow as for an array of the same values', () => {
    const values = [10, 12, 8, 11];
    expect(meanReversionRegime(windowOf(values), 1.5)).toEqual(meanReversionRegime(values, 1.5));
    // a wrapped ring buffer holds [12, 8, 11, 6] in logical order:
    // μ = 37/4 = 9.25, devs 2.75, −1.25, 1.75, −3.25 → sq 7.5625+1.5625+3.0625+10.5625 = 22.75,
    // var = 5.6875, z = −3.25/√5.6875 ≈ −1.3628
    const w = new RollingWindow(4);
    for (const v of [10, 12, 8, 11, 6]) w.push(v);
    const r = meanReversionRegime(w, 1.3);
    expect(r.z).toBeCloseTo(-3.25 / Math.sqrt(5.6875), 12);
    expect(r.regime).toBe(1);
  });

  it('with two values |z| is always 1: [10, 12] → μ 11, σ 1, z 1', () => {
    expect(meanReversionRegime([10, 12], 0.5)).toEqual({ z: 1, regime: -1 });
    expect(meanReversionRegime([12, 10], 0.5)).toEqual({ z: -1, regime: 1 });
  });
});

describe('MeanReversionStrategy parameters', () => {
  it('has type MeanReversionStrategy', () => {
    expect(MeanReversionStrategy.type).toBe('MeanReversionStrategy');
    expect(MeanReversionStrategy.params).toBe(MeanReversionParams);
  });

  it('applies the defaults lookback 50, threshold 1.5, quantity 1', () => {
    expect(MeanReversionStrategy.params.parse({})).toEqual({ lookback_period: 50, deviation_threshold: 1.5, quantity: 1 });
  });

  it('accepts the smallest lookback, 2', () => {
    expect(MeanReversionStrategy.params.safeParse({ lookback_period: 2 }).success).toBe(true);
  });

  it.each([
    ['lookback 1', { lookback_period: 1 }, 'lookback_period'],
    ['lookback 0', { lookback_period: 0 }, 'lookback_period'],
    ['non-integer lookback', { lookback_period: 10.5 }, 'lookback_period'],
    ['threshold 0', { deviation_threshold: 0 }, 'deviation_threshold'],
    ['negative threshold', { deviation_threshold: -1.5 }, 'deviation_threshold'],
    ['string threshold', { deviation_threshold: '1.5' }, 'deviation_threshold'],
    ['quantity 0', { quantity: 0 }, 'quantity'],
    ['negative quantity', { quantity: -2 }, 'quantity'],
  ])('rejects %s', (_name, params, field) => {
    const r = MeanReversionStrategy.params.safeParse(params);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.'))).toContain(field);
  });
});

describe('MeanReversionStrategy.onTick (lookback 4, threshold 1.5)', () => {
  const P = { lookback_period: 4, deviation_threshold: 1.5 };

  it('emits nothing until lookback_period prices are held (the current one included)', () => {
    const feed = make(P);
    // 3 prices are not a full window, even with an extreme last price
    expect(sides(feed, A, [10, 10, 1])).toEqual(['-', '-', '-']);
  });

  it('emits BUY when z drops below −threshold on the first full window', () => {
    const feed = make(P);
    // [10,10,10,6]: z = −√3 ≈ −1.732 < −1.5 → BUY
    expect(sides(feed, A, [10, 10, 10, 6])).toEqual(['-', '-', '-', 'BUY']);
  });

  it('emits SELL when z rises above threshold', () => {
    const feed = make(P);
    // [10,10,10,14]: z = +√3 > 1.5 → SELL
    expect(sides(feed, A, [10, 10, 10, 14])).toEqual(['-', '-', '-', 'SELL']);
  });

  it('emits nothing for constant prices (σ = 0)', () => {
    const feed = make(P);
    expect(sides(feed, A, Array.from({ length: 10 }, () => 100))).toEqual(Array.from({ length: 10 }, () => '-'));
  });

  it('emits nothing for constant prices that are not exact binary fractions (σ = 0 mathematically)', () => {
    const feed = make({ lookback_period: 3, deviation_threshold: 0.5 });
    // [0.1, 0.1, 0.1]: μ = 0.1, σ = 0 → regime 0 → no signal
    expect(sides(feed, A, [0.1, 0.1, 0.1, 0.1])).toEqual(['-', '-', '-', '-']);
  });

  it('keeps only the last lookback_period prices', () => {
    const feed = make(P);
    // t4: [100,10,10,10]: μ = 32.5, devs 67.5, −22.5 ×3; var = (4556.25 + 3·506.25)/4 = 1518.75,
    //     z = −22.5/38.97 ≈ −0.577 → 0
    // t5: 100 has left the window: [10,10,10,6] → z ≈ −1.732 → BUY
    //     (with 100 still in, [100,10,10,10,6] would give z ≈ −0.58 → nothing)
    expect(sides(feed, A, [100, 10, 10, 10, 6])).toEqual(['-', '-', '-', '-', 'BUY']);
  });

  it('walks through +1 → 0 → +1 → −1 → −1 with the hand-computed z-scores', () => {
    const feed = make(P);
    // t4 [10,10,10,6]  z = −√3 ≈ −1.732           → +1 BUY
    // t5 [10,10,6,6]   μ 8, σ 2, z = −1            → 0
    // t6 [10,6,6,6]    μ 7, var 3, z = −1/√3       → 0
    // t7 [6,6,6,6]     σ 0                          → 0
    // t8 [6,6,6,2]     μ 5, devs 1,1,1,−3, z = −√3 → +1 BUY
    // t9 [6,6,2,14]    μ 7, sq 1+1+25+49 = 76, var 19, z = 7/√19 ≈ 1.606 → −1 SELL
    // t10 [6,2,14,30]  μ 13, sq 49+121+1+289 = 460, var 115, z = 17/√115 ≈ 1.585 → −1 (no change)
    expect(sides(feed, A, [10, 10, 10, 6, 6, 6, 6, 2, 14, 30])).toEqual([
      '-', '-', '-', 'BUY', '-', '-', '-', 'BUY', 'SELL', '-',
    ]);
  });

  it('emits nothing more while the regime stays +1', () => {
    const feed = make(P);
    // t4 [10,10,10,6] → BUY
    // t5 [10,10,6,2]: μ 7, devs 3,3,−1,−5, sq 9+9+1+25 = 44, var 11, z = −5/√11 ≈ −1.508 < −1.5 → still +1
    expect(sides(feed, A, [10, 10, 10, 6, 2])).toEqual(['-', '-', '-', 'BUY', '-']);
  });

  it('emits SELL on a direct −1 → +1 → −1 sequence with lookback 2 (|z| is 1 for any two distinct prices)', () => {
    const feed = make({ lookback_period: 2, deviation_threshold: 0.5 });
    // t2 [10,12] z = +1 → SELL; t3 [12,10] z = −1 → BUY; t4 [10,12] z = +1 → SELL; t5 [12,12] σ 0 → 0
    expect(sides(feed, A, [10, 12, 10, 12, 12])).toEqual(['-', 'SELL', 'BUY', 'SELL', '-']);
  });

  it('keeps instruments independent when their ticks are interleaved', () => {
    const feed = make({ lookback_period: 2, deviation_threshold: 0.5 });
    const out = [
      feed(A, 10), // A [10]      → -
      feed(B, 20), // B [20]      → -   (a shared window would be [10,20], z = +1 → SELL)
      feed(A, 12), // A [10,12]   z = +1 → SELL
      feed(B, 18), // B [20,18]   z = −1 → BUY
      feed(A, 14), // A [12,14]   z = +1 → −1 again, nothing
      feed(B, 16), // B [18,16]   z = −1 → +1 again, nothing
    ].map(side);
    expect(out).toEqual(['-', '-', 'SELL', 'BUY', '-', '-']);
  });

  it('carries the quantity parameter and a reason', () => {
    const feed = make({ ...P, quantity: 25 });
    sides(feed, A, [10, 10, 10]);
    const out = feed(A, 6) as SignalIntent;
    expect(out).toMatchObject({ side: 'BUY', quantity: 25 });
    expect(out.reason).toContain('z-score');
  });

  it('uses quantity 1 by default', () => {
    const feed = make(P);
    sides(feed, A, [10, 10, 10]);
    expect(feed(A, 14)).toMatchObject({ side: 'SELL', quantity: 1 });
  });

  it('uses the default lookback of 50 when none is given', () => {
    const feed = make({});
    // 49 ticks: no full window yet even with an extreme 49th price
    const warm = sides(feed, A, [...Array.from({ length: 48 }, () => 100), 1]);
    expect(warm.every((s) => s === '-')).toBe(true);
    // 50th tick: window = 48×100, 1, 50 — z of 50: μ = (4800 + 1 + 50)/50 = 97.02, devs: 2.98 ×48, −96.02, −47.02
    // sq = 48·8.8804 + 9219.8404 + 2210.8804 = 11856.98, var = 237.1396, σ ≈ 15.399, z = −47.02/15.399 ≈ −3.053 → BUY
    expect(side(feed(A, 50))).toBe('BUY');
  });
});
