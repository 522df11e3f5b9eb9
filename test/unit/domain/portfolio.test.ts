import { describe, it, expect } from 'vitest';
import type { Fill } from '../../../src/domain/fill.js';
import { applyFill, emptyPortfolio, portfolioToJSON, type PortfolioView } from '../../../src/domain/portfolio.js';

const TOK = 256265;
const TOK2 = 738561;
let seq = 0;

function fill(side: 'BUY' | 'SELL', quantity: number, price: number, instrument_token = TOK): Fill {
  seq++;
  return { fill_id: `f-${seq}`, strategy_id: 's', instrument_token, side, quantity, price, timestamp: 1000 + seq };
}

function run(start: PortfolioView, ...fills: Fill[]): PortfolioView {
  return fills.reduce(applyFill, start);
}

function pos(p: PortfolioView, token = TOK) {
  const x = p.positions.get(token);
  if (x === undefined) throw new Error(`no position for ${token}`);
  return x;
}

describe('emptyPortfolio', () => {
  it('holds the initial cash and nothing else', () => {
    const p = emptyPortfolio(5000);
    expect(p.cash).toBe(5000);
    expect(p.realizedPnl).toBe(0);
    expect(p.fillCount).toBe(0);
    expect(p.positions.size).toBe(0);
  });
});

describe('applyFill: average-cost accounting (long side)', () => {
  // The walk-through: from cash 0
  //  1. BUY 10 @100 → qty 10, avg 100, cash −1000
  //  2. BUY 10 @110 → qty 20, avg (10·100 + 10·110)/20 = 105, cash −1000 − 1100 = −2100
  //  3. SELL 15 @120 → realised 15·(120 − 105) = 225, qty 5, avg 105, cash −2100 + 1800 = −300
  //  4. SELL 10 @100 → closes 5: realised 5·(100 − 105) = −25 (total 200), opens short 5 @100, cash −300 + 1000 = 700
  //  5. BUY 5 @90 → covers the short: realised 5·(90 − 100)·(−1) = +50 (total 250), flat, cash 700 − 450 = 250
  const p0 = emptyPortfolio(0);
  const p1 = applyFill(p0, fill('BUY', 10, 100));
  const p2 = applyFill(p1, fill('BUY', 10, 110));
  const p3 = applyFill(p2, fill('SELL', 15, 120));
  const p4 = applyFill(p3, fill('SELL', 10, 100));
  const p5 = applyFill(p4, fill('BUY', 5, 90));

  it('1. opens a long position at the fill price', () => {
    expect(pos(p1)).toEqual({ instrumentToken: TOK, quantity: 10, avgPrice: 100, realizedPnl: 0 });
    expect(p1.cash).toBe(-1000);
    expect(p1.realizedPnl).toBe(0);
    expect(p1.fillCount).toBe(1);
  });

  it('2. averages a second buy: 20 @105, cash −2100', () => {
    expect(pos(p2)).toEqual({ instrumentToken: TOK, quantity: 20, avgPrice: 105, realizedPnl: 0 });
    expect(p2.cash).toBe(-2100);
    expect(p2.fillCount).toBe(2);
  });

  it('3. a partial sell realises 15·(120 − 105) = 225 and keeps the average', () => {
    expect(pos(p3)).toEqual({ instrumentToken: TOK, quantity: 5, avgPrice: 105, realizedPnl: 225 });
    expect(p3.realizedPnl).toBe(225);
    expect(p3.cash).toBe(-300);
  });

  it('4. a sell larger than the position closes it (−25) and opens a short at the fill price', () => {
    expect(pos(p4)).toEqual({ instrumentToken: TOK, quantity: -5, avgPrice: 100, realizedPnl: 200 });
    expect(p4.realizedPnl).toBe(200);
    expect(p4.cash).toBe(700);
  });

  it('5. covering the short realises (90 − 100)·5·(−1) = +50 and leaves the position flat with avg 0', () => {
    expect(pos(p5)).toEqual({ instrumentToken: TOK, quantity: 0, avgPrice: 0, realizedPnl: 250 });
    expect(p5.realizedPnl).toBe(250);
    expect(p5.cash).toBe(250);
    expect(p5.fillCount).toBe(5);
  });

  it('once flat, cash − initial cash equals the realised P&L', () => {
    expect(p5.cash - 0).toBe(p5.realizedPnl);
  });

  it('is pure: earlier views are unchanged', () => {
    expect(p0.positions.size).toBe(0);
    expect(p0.cash).toBe(0);
    expect(pos(p1).quantity).toBe(10);
    expect(pos(p2).quantity).toBe(20);
    expect(p1.positions).not.toBe(p2.positions);
  });
});

describe('applyFill: short side', () => {
  it('opens and adds to a short at the average price', () => {
    // SELL 10 @100 → −10 @100, cash +1000; SELL 10 @90 → −20 @ (10·100 + 10·90)/20 = 95, cash +1900
    const p = run(emptyPortfolio(0), fill('SELL', 10, 100), fill('SELL', 10, 90));
    expect(pos(p)).toEqual({ instrumentToken: TOK, quantity: -20, avgPrice: 95, realizedPnl: 0 });
    expect(p.cash).toBe(1900);
  });

  it('a partial cover below the entry is a gain and keeps the average', () => {
    // −10 @100, BUY 4 @90: realised 4·(90 − 100)·(−1) = +40, qty −6, avg 100, cash 1000 − 360 = 640
    const p = run(emptyPortfolio(0), fill('SELL', 10, 100), fill('BUY', 4, 90));
    expect(pos(p)).toEqual({ instrumentToken: TOK, quantity: -6, avgPrice: 100, realizedPnl: 40 });
    expect(p.cash).toBe(640);
  });

  it('a cover above the entry is a loss', () => {
    // −10 @100, BUY 10 @130: realised 10·(130 − 100)·(−1) = −300, flat
    const p = run(emptyPortfolio(0), fill('SELL', 10, 100), fill('BUY', 10, 130));
    expect(pos(p)).toEqual({ instrumentToken: TOK, quantity: 0, avgPrice: 0, realizedPnl: -300 });
    expect(p.cash).toBe(-300);
  });

  it('a buy larger than the short flips to a long at the fill price', () => {
    // −6 @100, BUY 10 @95: closes 6 → 6·(95 − 100)·(−1) = +30, opens long 4 @95
    const p = run(emptyPortfolio(0), fill('SELL', 6, 100), fill('BUY', 10, 95));
    expect(pos(p)).toEqual({ instrumentToken: TOK, quantity: 4, avgPrice: 95, realizedPnl: 30 });
    // cash: +600 − 950 = −350
    expect(p.cash).toBe(-350);
  });

  it('re-opening after going flat starts a fresh average', () => {
    // BUY 10 @100, SELL 10 @110 (+100, flat), BUY 5 @200 → 5 @200 (not mixed with the old 100)
    const p = run(emptyPortfolio(0), fill('BUY', 10, 100), fill('SELL', 10, 110), fill('BUY', 5, 200));
    expect(pos(p)).toEqual({ instrumentToken: TOK, quantity: 5, avgPrice: 200, realizedPnl: 100 });
  });
});

describe('applyFill: several instruments', () => {
  it('keeps positions per instrument and sums realised P&L over them', () => {
    // TOK:  BUY 2 @50, SELL 2 @60 → +20
    // TOK2: SELL 3 @10, BUY 3 @12 → 3·(12 − 10)·(−1) = −6
    const p = run(
      emptyPortfolio(1000),
      fill('BUY', 2, 50, TOK),
      fill('SELL', 3, 10, TOK2),
      fill('SELL', 2, 60, TOK),
      fill('BUY', 3, 12, TOK2),
    );
    expect(pos(p, TOK)).toEqual({ instrumentToken: TOK, quantity: 0, avgPrice: 0, realizedPnl: 20 });
    expect(pos(p, TOK2)).toEqual({ instrumentToken: TOK2, quantity: 0, avgPrice: 0, realizedPnl: -6 });
    expect(p.realizedPnl).toBe(14);
    // cash: 1000 − 100 + 30 + 120 − 36 = 1014
    expect(p.cash).toBe(1014);
    expect(p.fillCount).toBe(4);
  });

  it('handles fractional quantities', () => {
    // BUY 0.5 @100, BUY 1.5 @120 → 2 @ (50 + 180)/2 = 115
    const p = run(emptyPortfolio(0), fill('BUY', 0.5, 100), fill('BUY', 1.5, 120));
    expect(pos(p).quantity).toBe(2);
    expect(pos(p).avgPrice).toBe(115);
  });
});

describe('fees', () => {
  it('come out of cash, are counted, and leave realised P&L before fees', () => {
    const p = run(emptyPortfolio(1000), { ...fill('BUY', 10, 100), fee: 1.5 }, { ...fill('SELL', 10, 110), fee: 1.65 });
    // cash 1000 − 1000 − 1.5 + 1100 − 1.65 = 1096.85; realised 10·(110 − 100) = 100
    expect(p.cash).toBeCloseTo(1096.85, 10);
    expect(p.fees).toBeCloseTo(3.15, 10);
    expect(p.realizedPnl).toBe(100);
    expect(pos(p).quantity).toBe(0);
  });
});

describe('portfolioToJSON', () => {
  it('uses snake_case and lists the positions', () => {
    const p = run(emptyPortfolio(0), fill('BUY', 10, 100), fill('SELL', 4, 110));
    // realised 4·(110 − 100) = 40; cash −1000 + 440 = −560
    expect(portfolioToJSON(p)).toEqual({
      cash: -560,
      realized_pnl: 40,
      fill_count: 2,
      fees: 0,
      positions: [{ instrument_token: TOK, quantity: 6, avg_price: 100, realized_pnl: 40 }],
    });
  });

  it('is JSON-serialisable', () => {
    const p = run(emptyPortfolio(10), fill('BUY', 1, 5));
    expect(JSON.parse(JSON.stringify(portfolioToJSON(p)))).toEqual(portfolioToJSON(p));
    expect(portfolioToJSON(emptyPortfolio(10))).toEqual({ cash: 10, realized_pnl: 0, fill_count: 0, fees: 0, positions: [] });
  });
});
