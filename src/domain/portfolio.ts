import type { Fill } from './fill.js';

/** One instrument's position inside a strategy's portfolio. Quantity is signed: short < 0. */
export interface Position {
  readonly instrumentToken: number;
  readonly quantity: number;
  /** average entry price of the open quantity; 0 when flat */
  readonly avgPrice: number;
  /** P&L realised on this instrument so far */
  readonly realizedPnl: number;
}

/** What a strategy sees of its own portfolio on every tick (read-only). */
export interface PortfolioView {
  /** starting cash plus proceeds of sells minus cost of buys */
  readonly cash: number;
  readonly realizedPnl: number;
  readonly positions: ReadonlyMap<number, Position>;
  /** number of distinct fills applied */
  readonly fillCount: number;
  /** fees paid so far (already taken out of cash) */
  readonly fees: number;
}

export function emptyPortfolio(initialCash: number): PortfolioView {
  return { cash: initialCash, realizedPnl: 0, positions: new Map(), fillCount: 0, fees: 0 };
}

/**
 * Average-cost accounting. A fill in the direction of the position (or from
 * flat) moves the average price; a fill against it realises
 * (fill price − average) × closed quantity (sign-adjusted for shorts), and any
 * excess opens a new position at the fill price. A fill's `fee` comes out
 * of cash and is counted in `fees`; realised P&L is before fees.
 * Pure: returns a new view, the input is untouched.
 */
export function applyFill(p: PortfolioView, fill: Fill): PortfolioView {
  const signed = fill.side === 'BUY' ? fill.quantity : -fill.quantity;
  const prev = p.positions.get(fill.instrument_token);
  const q0 = prev?.quantity ?? 0;
  const avg0 = prev?.avgPrice ?? 0;
  let realized = 0;
  let q1: number;
  let avg1: number;
  if (q0 === 0 || Math.sign(q0) === Math.sign(signed)) {
    q1 = q0 + signed;
    avg1 = (Math.abs(q0) * avg0 + Math.abs(signed) * fill.price) / Math.abs(q1);
  } else {
    const closed = Math.min(Math.abs(q0), Math.abs(signed));
    realized = closed * (fill.price - avg0) * Math.sign(q0);
    q1 = q0 + signed;
    if (q1 === 0) avg1 = 0;
    else if (Math.sign(q1) === Math.sign(q0)) avg1 = avg0;
    else avg1 = fill.price;
  }
  const positions = new Map(p.positions);
  positions.set(fill.instrument_token, {
    instrumentToken: fill.instrument_token,
    quantity: q1,
    avgPrice: avg1,
    realizedPnl: (prev?.realizedPnl ?? 0) + realized,
  });
  const fee = fill.fee ?? 0;
  return {
    cash: p.cash - signed * fill.price - fee,
    realizedPnl: p.realizedPnl + realized,
    positions,
    fillCount: p.fillCount + 1,
    fees: p.fees + fee,
  };
}

/** JSON-friendly form for /status and logs. */
/** A portfolio as JSON (/status, the portfolio rebuilt at start). */
export interface PortfolioJSON {
  cash: number;
  realized_pnl: number;
  fill_count: number;
  fees: number;
  positions: { instrument_token: number; quantity: number; avg_price: number; realized_pnl: number }[];
}

export function portfolioToJSON(p: PortfolioView): PortfolioJSON {
  return {
    cash: p.cash,
    realized_pnl: p.realizedPnl,
    fill_count: p.fillCount,
    fees: p.fees,
    positions: [...p.positions.values()].map((x) => ({
      instrument_token: x.instrumentToken,
      quantity: x.quantity,
      avg_price: x.avgPrice,
      realized_pnl: x.realizedPnl,
    })),
  };
}
