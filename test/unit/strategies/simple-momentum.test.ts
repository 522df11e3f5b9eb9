import { describe, it, expect } from 'vitest';
import type { SignalIntent } from '../../../src/domain/signal.js';
import {
  SimpleMomentumParams,
  SimpleMomentumStrategy,
  momentumRegime,
} from '../../../src/strategies/builtin/simple-momentum.js';
import type { StrategyInstance, TickOutput } from '../../../src/strategies/sdk/types.js';
import { fakeContext, fakeTickContext, tick } from './helpers.js';

const A = 256265;
const B = 738561;

function make(params: Record<string, unknown>): { instance: StrategyInstance; feed: (token: number, price: number) => TickOutput } {
  const ctx = fakeContext('SimpleMomentumStrategy', [A, B]);
  const instance = SimpleMomentumStrategy.create(SimpleMomentumStrategy.params.parse(params), ctx);
  const tctx = fakeTickContext(ctx);
  return { instance, feed: (token, price) => instance.onTick(tick(token, price), tctx) };
}

/** Feed one instrument a price series; returns the side emitted per tick ('-' for nothing). */
function sides(feed: (token: number, price: number) => TickOutput, token: number, prices: readonly number[]): string[] {
  return prices.map((p) => side(feed(token, p)));
}

function side(out: TickOutput): string {
  if (out === undefined || out === null) return '-';
  if (Array.isArray(out)) throw new Error('SimpleMomentumStrategy is expected to return at most one intent');
  return (out as SignalIntent).side;
}

describe('momentumRegime', () => {
  it('is +1 above the threshold: (110 − 100)/100 = 0.1 > 0.05', () => {
    const r = momentumRegime(110, 100, 0.05);
    expect(r.m).toBeCloseTo(0.1, 12);
    expect(r.regime).toBe(1);
  });

  it('is −1 below the negative threshold: (90 − 100)/100 = −0.1 < −0.05', () => {
    const r = momentumRegime(90, 100, 0.05);
    expect(r.m).toBeCloseTo(-0.1, 12);
    expect(r.regime).toBe(-1);
  });

  it('is 0 inside the band: (102 − 100)/100 = 0.02, |0.02| ≤ 0.05', () => {
    expect(momentumRegime(102, 100, 0.05)).toEqual({ m: expect.closeTo(0.02, 12), regime: 0 });
    expect(momentumRegime(98, 100, 0.05).regime).toBe(0);
    expect(momentumRegime(100, 100, 0.05)).toEqual({ m: 0, regime: 0 });
  });

  it('exact equality with the threshold is not a crossing (strict > and <)', () => {
    // 5/100 is the correctly rounded double nearest 0.05, i.e. exactly the literal 0.05
    expect(momentumRegime(105, 100, 0.05)).toEqual({ m: 0.05, regime: 0 });
    // −5/100 = −0.05 exactly: not < −0.05
    expect(momentumRegime(95, 100, 0.05)).toEqual({ m: -0.05, regime: 0 });
  });

  it('measures momentum relative to the earlier price, not the newer one', () => {
    // (150 − 100)/100 = 0.5, whereas (150 − 100)/150 would be 0.333…
    expect(momentumRegime(150, 100, 0.4).regime).toBe(1);
    expect(momentumRegime(150, 100, 0.4).m).toBeCloseTo(0.5, 12);
    // (50 − 100)/100 = −0.5
    expect(momentumRegime(50, 100, 0.4).m).toBeCloseTo(-0.5, 12);
  });
});

describe('SimpleMomentumStrategy parameters', () => {
  it('has type SimpleMomentumStrategy', () => {
    expect(SimpleMomentumStrategy.type).toBe('SimpleMomentumStrategy');
    expect(SimpleMomentumStrategy.params).toBe(SimpleMomentumParams);
  });

  it('applies the defaults lookback 20, threshold 0.01, quantity 1', () => {
    expect(SimpleMomentumStrategy.params.parse({})).toEqual({ lookback_period: 20, momentum_threshold: 0.01, quantity: 1 });
  });

  it('keeps given values and fills in the rest', () => {
    expect(SimpleMomentumStrategy.params.parse({ lookback_period: 5 })).toEqual({
      lookback_period: 5,
      momentum_threshold: 0.01,
      quantity: 1,
    });
  });

  it('accepts the smallest lookback, 1', () => {
    expect(SimpleMomentumStrategy.params.safeParse({ lookback_period: 1 }).success).toBe(true);
  });

  it.each([
    ['lookback 0', { lookback_period: 0 }, 'lookback_period'],
    ['negative lookback', { lookback_period: -3 }, 'lookback_period'],
    ['non-integer lookback', { lookback_period: 2.5 }, 'lookback_period'],
    ['string lookback', { lookback_period: '20' }, 'lookback_period'],
    ['threshold 0', { momentum_threshold: 0 }, 'momentum_threshold'],
    ['negative threshold', { momentum_threshold: -0.01 }, 'momentum_threshold'],
    ['infinite threshold', { momentum_threshold: Infinity }, 'momentum_threshold'],
    ['quantity 0', { quantity: 0 }, 'quantity'],
    ['negative quantity', { quantity: -1 }, 'quantity'],
  ])('rejects %s', (_name, params, field) => {
    const r = SimpleMomentumStrategy.params.safeParse(params);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.'))).toContain(field);
  });
});

describe('SimpleMomentumStrategy.onTick (lookback 2, threshold 0.05)', () => {
  const P = { lookback_period: 2, momentum_threshold: 0.05 };

  it('emits nothing during warm-up (the first lookback ticks), however large the move', () => {
    const { feed } = make(P);
    // window needs lookback+1 = 3 prices; 100 → 200 is +100% but only 2 prices are known
    expect(sides(feed, A, [100, 200])).toEqual(['-', '-']);
  });

  it('emits BUY on the first full window when momentum is above the threshold', () => {
    const { feed } = make(P);
    // tick 3: p_then = 100 (2 ticks earlier), m = (106 − 100)/100 = 0.06 > 0.05 → +1 → BUY
    expect(sides(feed, A, [100, 100, 106])).toEqual(['-', '-', 'BUY']);
  });

  it('emits SELL on the first full window when momentum is below −threshold', () => {
    const { feed } = make(P);
    // m = (94 − 100)/100 = −0.06 < −0.05 → −1 → SELL
    expect(sides(feed, A, [100, 100, 94])).toEqual(['-', '-', 'SELL']);
  });

  it('does not signal when momentum equals the threshold exactly', () => {
    const { feed } = make(P);
    // m = (105 − 100)/100 = 0.05, not > 0.05; then (95 − 100)/100 = −0.05, not < −0.05
    expect(sides(feed, A, [100, 100, 105])).toEqual(['-', '-', '-']);
    const { feed: feed2 } = make(P);
    expect(sides(feed2, A, [100, 100, 95])).toEqual(['-', '-', '-']);
  });

  it('compares with the price exactly lookback ticks earlier', () => {
    const { feed } = make({ lookback_period: 3, momentum_threshold: 0.05 });
    // tick 4: p_then = 200 (3 ticks earlier): m = (106 − 200)/200 = −0.47 → SELL.
    // (Against the price 2 ticks earlier, 100, it would have been +0.06 → BUY.)
    expect(sides(feed, A, [200, 100, 100, 106])).toEqual(['-', '-', '-', 'SELL']);
  });

  it('emits nothing more while the regime stays +1', () => {
    const { feed } = make(P);
    // t3: (110−100)/100 = 0.10 → +1 BUY
    // t4: window [100,110,120]: (120−100)/100 = 0.20 → +1, no change
    // t5: window [110,120,130]: (130−110)/110 ≈ 0.18 → +1, no change
    expect(sides(feed, A, [100, 100, 110, 120, 130])).toEqual(['-', '-', 'BUY', '-', '-']);
  });

  it('emits BUY twice for +1 → 0 → +1', () => {
    const { feed } = make(P);
    // t3: [100,100,106] m = 0.06 → +1 BUY
    // t4: [100,106,106] m = (106−100)/100 = 0.06 → +1 (no change)
    // t5: [106,106,106] m = 0 → 0 (no signal for a change to 0)
    // t6: [106,106,106] m = 0 → 0
    // t7: [106,106,112] m = 6/106 ≈ 0.0566 > 0.05 → +1 BUY
    expect(sides(feed, A, [100, 100, 106, 106, 106, 106, 112])).toEqual(['-', '-', 'BUY', '-', '-', '-', 'BUY']);
  });

  it('emits SELL for a direct +1 → −1 change, then nothing while it stays −1 or goes to 0', () => {
    const { feed } = make(P);
    // t3: [100,100,110] m = 0.10 → +1 BUY
    // t4: [100,110,90]  m = (90−100)/100 = −0.10 → −1 SELL
    // t5: [110,90,80]   m = (80−110)/110 ≈ −0.27 → −1 (no change)
    // t6: [90,80,80]    m = (80−90)/90 ≈ −0.11 → −1 (no change)
    // t7: [80,80,80]    m = 0 → 0 (nothing)
    // t8: [80,80,90]    m = 10/80 = 0.125 → +1 BUY
    expect(sides(feed, A, [100, 100, 110, 90, 80, 80, 80, 90])).toEqual(['-', '-', 'BUY', 'SELL', '-', '-', '-', 'BUY']);
  });

  it('emits SELL twice for −1 → 0 → −1', () => {
    const { feed } = make(P);
    // t3: [100,100,90] m = −0.10 → SELL
    // t4: [100,90,100] m = 0 → 0
    // t5: [90,100,80]  m = (80−90)/90 ≈ −0.111 → SELL
    expect(sides(feed, A, [100, 100, 90, 100, 80])).toEqual(['-', '-', 'SELL', '-', 'SELL']);
  });

  it('with lookback 1 compares consecutive prices', () => {
    const { feed } = make({ lookback_period: 1, momentum_threshold: 0.05 });
    // t2: (110−100)/100 = 0.1 → BUY; t3: (99−110)/110 = −0.1 → SELL; t4: (99−99)/99 = 0 → 0
    expect(sides(feed, A, [100, 110, 99, 99])).toEqual(['-', 'BUY', 'SELL', '-']);
  });

  it('keeps instruments independent when their ticks are interleaved', () => {
    const { feed } = make(P);
    // A sees 100, 100, 110; B sees 10, 10, 9. Each instrument has its own window.
    const out = [
      feed(A, 100), // A [100]              → -
      feed(B, 10), //  B [10]               → -
      feed(A, 100), // A [100,100]          → -
      feed(A, 110), // A [100,100,110] m = 0.10 → BUY
      feed(B, 10), //  B [10,10]            → - (B still warming up)
      feed(B, 9), //   B [10,10,9]  m = −0.10 → SELL
    ].map(side);
    // A single shared window would instead give [-,-,-,BUY,SELL,...]: at tick 5 it would hold [100,110,10].
    expect(out).toEqual(['-', '-', '-', 'BUY', '-', 'SELL']);
  });

  it('keeps each instrument’s regime separate', () => {
    const { feed } = make(P);
    // A enters +1 (m = 0.1), then B enters +1 too (m = (11−10)/10 = 0.1): both must emit BUY.
    const out = [feed(A, 100), feed(B, 10), feed(A, 100), feed(B, 10), feed(A, 110), feed(B, 11)].map(side);
    expect(out).toEqual(['-', '-', '-', '-', 'BUY', 'BUY']);
  });

  it('keeps separate state per strategy instance', () => {
    const first = make(P);
    const second = make(P);
    expect(sides(first.feed, A, [100, 100])).toEqual(['-', '-']);
    // the second instance has seen nothing yet: its third tick is only its first
    expect(sides(second.feed, A, [110])).toEqual(['-']);
    expect(sides(first.feed, A, [110])).toEqual(['BUY']);
  });
});

describe('SimpleMomentumStrategy intents', () => {
  it('carries the quantity parameter', () => {
    const { feed } = make({ lookback_period: 2, momentum_threshold: 0.05, quantity: 7 });
    feed(A, 100);
    feed(A, 100);
    const out = feed(A, 110) as SignalIntent;
    expect(out.side).toBe('BUY');
    expect(out.quantity).toBe(7);
    expect(typeof out.reason).toBe('string');
    expect(out.reason).toContain('momentum');
  });

  it('uses quantity 1 by default', () => {
    const { feed } = make({ lookback_period: 2, momentum_threshold: 0.05 });
    feed(A, 100);
    feed(A, 100);
    expect(feed(A, 90)).toMatchObject({ side: 'SELL', quantity: 1 });
  });

  it('uses the default lookback of 20 when none is given (21 prices needed)', () => {
    const { feed } = make({});
    // 20 ticks at 100, then 102: the 21st tick compares with the 1st, m = 2/100 = 0.02 > 0.01 → BUY
    const warm = sides(feed, A, Array.from({ length: 20 }, () => 100));
    expect(warm.every((s) => s === '-')).toBe(true);
    expect(side(feed(A, 102))).toBe('BUY');
  });

  it('does not signal at tick 20 with the default lookback (window not yet full)', () => {
    const { feed } = make({});
    // 19 ticks at 100 then 150: only 20 prices, lookback 20 needs 21
    sides(feed, A, Array.from({ length: 19 }, () => 100));
    expect(side(feed(A, 150))).toBe('-');
  });
});
