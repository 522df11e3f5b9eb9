import { describe, it, expect } from 'vitest';
import { BacktestAccounts, buildBacktestReport } from '../../../src/backtest/backtest-accounts.js';
import type { StrategyReport } from '../../../src/backtest/report.js';
import { RunnerError } from '../../../src/errors.js';
import { A, B, fill, tick } from './helpers.js';

const CASH = 10_000;

function strategy(report: { strategies: StrategyReport[] }, id: string): StrategyReport {
  const s = report.strategies.find((x) => x.strategy_id === id);
  if (s === undefined) throw new Error(`no strategy ${id} in the report`);
  return s;
}

function equities(s: { equity_curve: { equity: number }[] }): number[] {
  return s.equity_curve.map((p) => Number(p.equity.toFixed(6)));
}

describe('BacktestAccounts: fees, realised and unrealised P&L with slippage', () => {
  // Ticks of A: 1000 @100, 2000 @102, 3000 @105, 4000 @103.
  // 1. t=1000 BUY 10 @100.5 (the tick said 100: +0.5 slippage), fee 1
  //    cash 10000 − 1005 − 1 = 8994; marked at 100: equity 8994 + 10·100 = 9994
  // 2. t=2000 SELL 4 @101.8 (tick 102: −0.2 slippage), fee 0.5
  //    realised 4·(101.8 − 100.5) = 5.2; 6 left at avg 100.5
  //    cash 8994 + 407.2 − 0.5 = 9400.7; marked at 102: 9400.7 + 612 = 10012.7
  // End (last price 103): unrealised 6·(103 − 100.5) = 15; fees 1.5
  //    net 5.2 + 15 − 1.5 = 18.7; final equity 9400.7 + 618 = 10018.7 = 10000 + 18.7
  const report = buildBacktestReport({
    initialCash: CASH,
    strategies: ['s1'],
    ticks: [tick(1000, 100), tick(2000, 102), tick(3000, 105), tick(4000, 103)],
    fills: [fill('s1', 1000, 'BUY', 10, 100.5, { fee: 1 }), fill('s1', 2000, 'SELL', 4, 101.8, { fee: 0.5 })],
  });
  const s = strategy(report, 's1');

  it('splits the P&L into realised (before fees), unrealised and fees', () => {
    expect(s.fills).toBe(2);
    expect(s.realized_pnl).toBeCloseTo(5.2, 9);
    expect(s.unrealized_pnl).toBeCloseTo(15, 9);
    expect(s.fees).toBeCloseTo(1.5, 12);
    expect(s.net_pnl).toBeCloseTo(18.7, 9);
    expect(s.final_cash).toBeCloseTo(9400.7, 9);
    expect(s.final_equity).toBeCloseTo(10018.7, 9);
    expect(s.return_fraction).toBeCloseTo(18.7 / 10_000, 12);
  });

  it('reports the final position at the last price', () => {
    expect(s.positions).toHaveLength(1);
    const p = s.positions[0]!;
    expect(p.instrument_token).toBe(A);
    expect(p.quantity).toBe(6);
    expect(p.avg_price).toBe(100.5);
    expect(p.last_price).toBe(103);
    expect(p.unrealized_pnl).toBeCloseTo(15, 9);
    expect(p.realized_pnl).toBeCloseTo(5.2, 9);
  });

  it('marks the curve at the last tick, not at the slipped fill price', () => {
    // start (first tick, initial cash), one point per fill, end (last tick, final equity)
    expect(s.equity_curve.map((p) => p.timestamp)).toEqual([1000, 1000, 2000, 4000]);
    expect(equities(s)).toEqual([10000, 9994, 10012.7, 10018.7]);
  });

  it('finds the drawdown the slippage and fee caused: 10000 → 9994', () => {
    expect(s.max_drawdown.amount).toBeCloseTo(6, 9);
    expect(s.max_drawdown.fraction).toBeCloseTo(0.0006, 12);
    expect(s.max_drawdown.peak).toEqual({ timestamp: 1000, equity: 10000 });
    expect(s.max_drawdown.trough?.timestamp).toBe(1000);
  });

  it('counts the still-open trip and no win rate', () => {
    expect(s.round_trips).toEqual({ closed: 0, winning: 0, losing: 0, open: 1, win_rate: null });
  });

  it('is exposed from the first fill to the end: (4000 − 1000) / (4000 − 1000) = 1', () => {
    expect(s.exposure).toBe(1);
  });

  it('summarises the ticks', () => {
    expect(report.ticks).toEqual({ count: 4, first_timestamp: 1000, last_timestamp: 4000, out_of_order: 0 });
  });
});

describe('BacktestAccounts: a flip from long to short', () => {
  // Ticks of A: 1000 @100, 2000 @110, 3000 @112, 4000 @100, 5000 @101.
  // 1. t=1000 BUY 10 @100, fee 2: trip 1 opens (fees 2)
  // 2. t=2000 SELL 15 @110, fee 3: closes the 10 long, realised 10·(110 − 100) = 100,
  //    and opens short 5 @110. The fee splits by quantity: 3·10/15 = 2 to trip 1, 1 to trip 2.
  //    Trip 1: 100 − (2 + 2) = 96 > 0, a win.
  // 3. t=3000 BUY 5 @112, fee 0.5: covers the short, realised 5·(112 − 110)·(−1) = −10.
  //    Trip 2: −10 − (1 + 0.5) = −11.5 < 0, a loss.
  // 4. t=4000 BUY 2 @100, no fee: trip 3 opens, still open at the end.
  // Realised 100 − 10 = 90; fees 5.5; unrealised 2·(101 − 100) = 2; net 90 + 2 − 5.5 = 86.5.
  // Cash: 10000 − 1000 − 2 = 8998 → + 1650 − 3 = 10645 → − 560 − 0.5 = 10084.5 → − 200 = 9884.5;
  // final equity 9884.5 + 2·101 = 10086.5.
  // Exposure over 1000..5000 (4000 ms): open 1000→3000 (the flip does not close the exposure)
  // and 4000→5000: 3000 / 4000 = 0.75.
  const report = buildBacktestReport({
    initialCash: CASH,
    strategies: ['flip'],
    ticks: [tick(1000, 100), tick(2000, 110), tick(3000, 112), tick(4000, 100), tick(5000, 101)],
    fills: [
      fill('flip', 1000, 'BUY', 10, 100, { fee: 2 }),
      fill('flip', 2000, 'SELL', 15, 110, { fee: 3 }),
      fill('flip', 3000, 'BUY', 5, 112, { fee: 0.5 }),
      fill('flip', 4000, 'BUY', 2, 100),
    ],
  });
  const s = strategy(report, 'flip');

  it('accounts each trip with its share of the flip’s fee', () => {
    expect(s.round_trips).toEqual({ closed: 2, winning: 1, losing: 1, open: 1, win_rate: 0.5 });
  });

  it('adds up the P&L', () => {
    expect(s.realized_pnl).toBeCloseTo(90, 9);
    expect(s.fees).toBeCloseTo(5.5, 12);
    expect(s.unrealized_pnl).toBeCloseTo(2, 9);
    expect(s.net_pnl).toBeCloseTo(86.5, 9);
    expect(s.final_cash).toBeCloseTo(9884.5, 9);
    expect(s.final_equity).toBeCloseTo(10086.5, 9);
  });

  it('counts exposure through the flip', () => {
    expect(s.exposure).toBeCloseTo(0.75, 12);
  });

  it('splits the flip’s fee so that each trip’s verdict depends on its share', () => {
    // BUY 10 @100 fee 2; SELL 15 @110 fee 120 (flip); BUY 5 @100, no fee.
    // Split 120·10/15 = 80 to trip 1, 40 to trip 2:
    //   trip 1: 10·(110 − 100) − (2 + 80) = 18 > 0, a win
    //   trip 2: 5·(110 − 100) − 40 = 10 > 0, a win
    // All of it to trip 1 would make it 100 − 122 = −22 (a loss); all to trip 2, 50 − 120 = −70 (a loss).
    const r = buildBacktestReport({
      initialCash: CASH,
      strategies: ['flip'],
      ticks: [tick(1000, 100), tick(2000, 110), tick(3000, 100)],
      fills: [
        fill('flip', 1000, 'BUY', 10, 100, { fee: 2 }),
        fill('flip', 2000, 'SELL', 15, 110, { fee: 120 }),
        fill('flip', 3000, 'BUY', 5, 100),
      ],
    });
    expect(strategy(r, 'flip').round_trips).toEqual({ closed: 2, winning: 2, losing: 0, open: 0, win_rate: 1 });
  });
});

describe('BacktestAccounts: win rate', () => {
  it('is winning / closed trips, across instruments; a trip at exactly 0 is neither', () => {
    // A: BUY 1 @100, SELL 1 @103 → +3 (win); BUY 1 @100, SELL 1 @99 → −1 (loss)
    // B: BUY 2 @50 fee 1, SELL 2 @51 fee 1 → 2 − 2 = 0 (neither)
    // closed 3, winning 1, losing 1: win rate 1/3
    const r = buildBacktestReport({
      initialCash: CASH,
      strategies: ['w'],
      ticks: [tick(1000, 100), tick(1000, 50, B), tick(5000, 100)],
      fills: [
        fill('w', 1000, 'BUY', 1, 100),
        fill('w', 2000, 'SELL', 1, 103),
        fill('w', 2000, 'BUY', 2, 50, { token: B, fee: 1 }),
        fill('w', 3000, 'BUY', 1, 100),
        fill('w', 3000, 'SELL', 2, 51, { token: B, fee: 1 }),
        fill('w', 4000, 'SELL', 1, 99),
      ],
    });
    const rt = strategy(r, 'w').round_trips;
    expect(rt).toEqual({ closed: 3, winning: 1, losing: 1, open: 0, win_rate: 1 / 3 });
  });
});

describe('BacktestAccounts: the ordering rule (ties go to ticks)', () => {
  // Ticks of A: 1000 @100, 2000 @110, 2000 @120, 3000 @130.
  // A BUY 1 @121 stamped 2000 comes after both ticks stamped 2000: marked at 120,
  // equity 10000 − 121 + 120 = 9999 (after only the first it would be 10000 − 121 + 110 = 9989).
  const ticks = [tick(1000, 100), tick(2000, 110), tick(2000, 120), tick(3000, 130)];

  it('applies a fill after every tick stamped at or before it, fed in any position up to then', () => {
    for (const at of [0, 1, 2, 3]) {
      const acc = new BacktestAccounts({ initialCash: CASH, strategies: ['s'] });
      const f = fill('s', 2000, 'BUY', 1, 121);
      ticks.forEach((t, i) => {
        if (i === at) acc.onFill(f);
        acc.onTick(t);
      });
      const s = strategy(acc.report(), 's');
      expect(s.equity_curve[1], `fill fed before tick #${at}`).toEqual({ timestamp: 2000, equity: 9999 });
      // end: 10000 − 121 + 130
      expect(s.equity_curve[2]).toEqual({ timestamp: 3000, equity: 10009 });
    }
  });

  it('applies a fill stamped between ticks before the later one', () => {
    // stamped 1999: after the tick at 1000, before those at 2000: 10000 − 101 + 100 = 9999
    const r = buildBacktestReport({ initialCash: CASH, strategies: ['s'], ticks, fills: [fill('s', 1999, 'BUY', 1, 101)] });
    expect(strategy(r, 's').equity_curve[1]).toEqual({ timestamp: 1999, equity: 9999 });
  });

  it('refuses a fill handed over after a tick later than it', () => {
    const acc = new BacktestAccounts({ initialCash: CASH, strategies: ['s'] });
    acc.onTick(tick(1000, 100));
    acc.onTick(tick(3000, 101));
    const err = (() => {
      try {
        acc.onFill(fill('s', 2000, 'BUY', 1, 100));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(RunnerError);
    expect((err as RunnerError).code).toBe('FILL_INVALID');
    expect((err as RunnerError).message).toMatch(/stamped 2000 arrived after a tick stamped 3000/);
    // at the clock's own time it is still in time
    expect(() => acc.onFill(fill('s', 3000, 'BUY', 1, 100))).not.toThrow();
  });

  it('applies queued fills in timestamp order, stable among equal ones', () => {
    // Handed over: a@2000 BUY 1 @101, b@1500 BUY 2 @100, b@2000 BUY 3 @102; A is at 100 throughout.
    // Applied: b@1500 (total 20000 − 200 + 200 = 20000), then at 2000 a's (− 1: 19999) before b's (− 6: 19993).
    // (b's first would give 19994 at the middle point.)
    const acc = new BacktestAccounts({ initialCash: CASH, strategies: ['a', 'b'] });
    acc.onTick(tick(1000, 100));
    acc.onFill(fill('a', 2000, 'BUY', 1, 101));
    acc.onFill(fill('b', 1500, 'BUY', 2, 100));
    acc.onFill(fill('b', 2000, 'BUY', 3, 102));
    acc.onTick(tick(3000, 100));
    const r = acc.report();
    expect(r.total.equity_curve).toEqual([
      { timestamp: 1000, equity: 20000 },
      { timestamp: 1500, equity: 20000 },
      { timestamp: 2000, equity: 19999 },
      { timestamp: 2000, equity: 19993 },
      { timestamp: 3000, equity: 19993 },
    ]);
    expect(strategy(r, 'b').positions[0]?.quantity).toBe(5);
  });

  it('applies fills stamped after the last tick at the end, marked at the last prices', () => {
    // BUY 1 @105 at 5000 (last tick 4000 @103): equity 10000 − 105 + 103 = 9998; the curve ends at 5000
    const r = buildBacktestReport({
      initialCash: CASH,
      strategies: ['s'],
      ticks: [tick(1000, 100), tick(4000, 103)],
      fills: [fill('s', 5000, 'BUY', 1, 105)],
    });
    const s = strategy(r, 's');
    expect(s.equity_curve).toEqual([
      { timestamp: 1000, equity: 10000 },
      { timestamp: 5000, equity: 9998 },
      { timestamp: 5000, equity: 9998 },
    ]);
    // the event time is first to last tick: a position opened after it is no exposure
    expect(s.exposure).toBe(0);
  });

  it('marks an instrument that has not ticked yet at its fill price', () => {
    // BUY 1 @99 at 500, before the first tick (1000 @100): equity 10000 − 99 + 99 = 10000;
    // the curve starts at the first event (the fill); end 10000 − 99 + 100 = 10001 at 2000.
    // Exposure is clipped to the event time 1000..2000: 1000 / 1000 = 1.
    const r = buildBacktestReport({
      initialCash: CASH,
      strategies: ['s'],
      ticks: [tick(1000, 100), tick(2000, 100)],
      fills: [fill('s', 500, 'BUY', 1, 99)],
    });
    const s = strategy(r, 's');
    expect(s.equity_curve).toEqual([
      { timestamp: 500, equity: 10000 },
      { timestamp: 500, equity: 10000 },
      { timestamp: 2000, equity: 10001 },
    ]);
    expect(s.exposure).toBe(1);
  });
});

describe('BacktestAccounts: exposure', () => {
  // Ticks of A: 1000, 2000, 2000, 3000 (span 2000 ms).
  // s1: BUY at 2000 (after both ticks at 2000), SELL at 3000: exposed 2000→3000 = 1000 ms → 0.5
  // s2: BUY and SELL both at 2000: a trip of no duration → 0 (but one closed trip)
  // s3: BUY at 2000, never sold: exposed 2000→3000 (the end) → 0.5
  // s4: BUY at 1000, SELL at 1500, BUY at 2000, SELL at 2500: 500 + 500 = 1000 ms → 0.5
  // total: any strategy exposed: 1000→1500 and 2000→3000 = 1500 ms → 0.75
  const r = buildBacktestReport({
    initialCash: CASH,
    strategies: ['s1', 's2', 's3', 's4'],
    ticks: [tick(1000, 100), tick(2000, 100), tick(2000, 100), tick(3000, 100)],
    fills: [
      fill('s4', 1000, 'BUY', 1, 100),
      fill('s4', 1500, 'SELL', 1, 100),
      fill('s1', 2000, 'BUY', 1, 100),
      fill('s2', 2000, 'BUY', 1, 100),
      fill('s2', 2000, 'SELL', 1, 100),
      fill('s3', 2000, 'BUY', 1, 100),
      fill('s4', 2000, 'BUY', 1, 100),
      fill('s4', 2500, 'SELL', 1, 100),
      fill('s1', 3000, 'SELL', 1, 100),
    ],
  });

  it('is the fraction of first-to-last-tick time with a position open', () => {
    expect(strategy(r, 's1').exposure).toBe(0.5);
    expect(strategy(r, 's2').exposure).toBe(0);
    expect(strategy(r, 's2').round_trips.closed).toBe(1);
    expect(strategy(r, 's3').exposure).toBe(0.5);
    expect(strategy(r, 's4').exposure).toBe(0.5);
  });

  it('for the total, counts time when any strategy was exposed', () => {
    expect(r.total.exposure).toBe(0.75);
  });

  it('counts a position in any instrument, once', () => {
    // A held 1000→3000, B held 2000→4000 (ticks 1000..5000): 1000→4000 = 3000 / 4000 = 0.75
    const r2 = buildBacktestReport({
      initialCash: CASH,
      strategies: ['s'],
      ticks: [tick(1000, 100), tick(1000, 50, B), tick(5000, 100)],
      fills: [
        fill('s', 1000, 'BUY', 1, 100),
        fill('s', 2000, 'BUY', 1, 50, { token: B }),
        fill('s', 3000, 'SELL', 1, 100),
        fill('s', 4000, 'SELL', 1, 50, { token: B }),
      ],
    });
    expect(strategy(r2, 's').exposure).toBe(0.75);
  });

  it('is null when the event time is zero', () => {
    const r3 = buildBacktestReport({ initialCash: CASH, strategies: ['s'], ticks: [tick(1000, 100)], fills: [fill('s', 1000, 'BUY', 1, 100)] });
    expect(strategy(r3, 's').exposure).toBeNull();
    expect(r3.total.exposure).toBeNull();
  });
});

describe('BacktestAccounts: a strategy with no fills', () => {
  const r = buildBacktestReport({
    initialCash: CASH,
    strategies: ['idle', 'busy'],
    ticks: [tick(1000, 100), tick(2000, 105)],
    fills: [fill('busy', 1000, 'BUY', 1, 100)],
  });
  const s = strategy(r, 'idle');

  it('is in the report, in the order given, with nothing happening', () => {
    expect(r.strategies.map((x) => x.strategy_id)).toEqual(['idle', 'busy']);
    expect(s).toEqual({
      strategy_id: 'idle',
      initial_cash: CASH,
      fills: 0,
      realized_pnl: 0,
      unrealized_pnl: 0,
      fees: 0,
      net_pnl: 0,
      final_equity: CASH,
      return_fraction: 0,
      max_drawdown: { amount: 0, fraction: 0, peak: null, trough: null },
      round_trips: { closed: 0, winning: 0, losing: 0, open: 0, win_rate: null },
      exposure: 0,
      equity_curve: [
        { timestamp: 1000, equity: CASH },
        { timestamp: 2000, equity: CASH },
      ],
      final_cash: CASH,
      positions: [],
    });
  });

  it('gives empty curves when the backtest saw nothing at all', () => {
    const empty = new BacktestAccounts({ initialCash: CASH, strategies: ['s'] }).report();
    expect(empty.ticks).toEqual({ count: 0, first_timestamp: null, last_timestamp: null, out_of_order: 0 });
    expect(strategy(empty, 's').equity_curve).toEqual([]);
    expect(strategy(empty, 's').exposure).toBeNull();
    expect(empty.total.equity_curve).toEqual([]);
  });
});

describe('BacktestAccounts: totals', () => {
  // s1: t=1000 BUY 10 A @100 fee 1; s2: t=2000 BUY 5 B @50 fee 0.5; s3: no fills.
  // Ticks: 1000 A @100, 2000 A @104, 2000 B @50, 3000 A @106, 3000 B @48.
  // Total curve, one point per fill of any strategy:
  //  start 3·10000 = 30000 at 1000
  //  s1's fill at 1000: s1 10000 − 1000 − 1 + 10·100 = 9999, s2 10000, s3 10000 → 29999
  //  s2's fill at 2000: s1 8999 + 10·104 = 10039 (s1 marked too), s2 10000 − 250 − 0.5 + 250 = 9999.5, s3 10000 → 30038.5
  //  end at 3000: s1 8999 + 1060 = 10059, s2 9749.5 + 240 = 9989.5, s3 10000 → 30048.5
  // Drawdown of the total: 30038.5 → … no fall after; the only fall is 30000 → 29999: 1.
  const r = buildBacktestReport({
    initialCash: CASH,
    strategies: ['s1', 's2', 's3'],
    settings: { fee_bps: 1, note: 'echoed' },
    ticks: [tick(1000, 100), tick(2000, 104), tick(2000, 50, B), tick(3000, 106), tick(3000, 48, B)],
    fills: [fill('s1', 1000, 'BUY', 10, 100, { fee: 1 }), fill('s2', 2000, 'BUY', 5, 50, { token: B, fee: 0.5 })],
  });

  it('sums the strategies', () => {
    const sum = (f: (s: StrategyReport) => number): number => r.strategies.reduce((a, s) => a + f(s), 0);
    expect(r.total.strategies).toBe(3);
    expect(r.total.initial_cash).toBe(30_000);
    expect(r.total.fills).toBe(2);
    expect(r.total.fees).toBe(sum((s) => s.fees));
    expect(r.total.fees).toBeCloseTo(1.5, 12);
    expect(r.total.realized_pnl).toBe(sum((s) => s.realized_pnl));
    expect(r.total.unrealized_pnl).toBe(sum((s) => s.unrealized_pnl));
    // s1 10·(106 − 100) = 60, s2 5·(48 − 50) = −10
    expect(r.total.unrealized_pnl).toBeCloseTo(50, 9);
    expect(r.total.net_pnl).toBe(sum((s) => s.net_pnl));
    expect(r.total.net_pnl).toBeCloseTo(48.5, 9);
    expect(r.total.final_equity).toBeCloseTo(30048.5, 9);
    expect(r.total.return_fraction).toBeCloseTo(48.5 / 30_000, 12);
    expect(r.total.round_trips).toEqual({ closed: 0, winning: 0, losing: 0, open: 2, win_rate: null });
  });

  it('marks every strategy at every fill of any strategy', () => {
    expect(r.total.equity_curve.map((p) => p.timestamp)).toEqual([1000, 1000, 2000, 3000]);
    expect(equities(r.total)).toEqual([30000, 29999, 30038.5, 30048.5]);
    expect(r.total.max_drawdown.amount).toBeCloseTo(1, 9);
    expect(r.total.max_drawdown.fraction).toBeCloseTo(1 / 30_000, 12);
  });

  it('echoes the settings and is plain JSON', () => {
    expect(r.settings).toEqual({ fee_bps: 1, note: 'echoed' });
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });
});

describe('BacktestAccounts: feeding and closing', () => {
  it('counts ticks out of time order and keeps the clock at the latest time', () => {
    const acc = new BacktestAccounts({ initialCash: CASH, strategies: ['s'] });
    acc.onTick(tick(1000, 100));
    acc.onTick(tick(3000, 100));
    acc.onTick(tick(2000, 90)); // late: taken as arriving at 3000
    acc.onFill(fill('s', 3000, 'BUY', 1, 90));
    const r = acc.report();
    expect(r.ticks).toEqual({ count: 3, first_timestamp: 1000, last_timestamp: 3000, out_of_order: 1 });
    // marked at the latest price fed (90): 10000 − 90 + 90
    expect(strategy(r, 's').equity_curve[1]).toEqual({ timestamp: 3000, equity: 10000 });
  });

  it('refuses a fill of a strategy that is not in the backtest', () => {
    const acc = new BacktestAccounts({ initialCash: CASH, strategies: ['s'] });
    expect(() => acc.onFill(fill('other', 1000, 'BUY', 1, 100))).toThrow(/strategy "other", which is not in the backtest/);
  });

  it('refuses a strategy listed twice and a cash that is not a number', () => {
    expect(() => new BacktestAccounts({ initialCash: CASH, strategies: ['s', 's'] })).toThrow(/listed twice/);
    expect(() => new BacktestAccounts({ initialCash: Number.NaN, strategies: ['s'] })).toThrow(/initialCash/);
  });

  it('reports once: a second call gives the same report, feeding afterwards throws', () => {
    const acc = new BacktestAccounts({ initialCash: CASH, strategies: ['s'] });
    acc.onTick(tick(1000, 100));
    const r = acc.report();
    expect(acc.report()).toBe(r);
    expect(() => acc.onTick(tick(2000, 100))).toThrow(/after report/);
    expect(() => acc.onFill(fill('s', 2000, 'BUY', 1, 100))).toThrow(/after report/);
  });

  it('has null settings and return when none are given and the cash is 0', () => {
    const r = buildBacktestReport({ initialCash: 0, strategies: ['s'], ticks: [tick(1000, 100)], fills: [] });
    expect(r.settings).toBeNull();
    expect(strategy(r, 's').return_fraction).toBeNull();
  });
});
