/**
 * The result of a backtest as plain JSON (report.json): what BacktestAccounts
 * computes from the ticks and the simulated fills. Money is in the
 * instruments' price currency, timestamps are epoch milliseconds, fractions
 * are 0..1 (not percentages). Nothing is rounded here: the table rounds for
 * display (report-table.ts).
 */
export interface BacktestReport<S = unknown> {
  /** the run's settings as the caller gave them (opaque here; null when none were given) */
  settings: S | null;
  ticks: TicksSummary;
  /** one entry per strategy of the backtest, in the order given (strategies without fills included) */
  strategies: StrategyReport[];
  /** every strategy together */
  total: TotalReport;
}

export interface TicksSummary {
  count: number;
  /** first and last tick time: the backtest's event time; null without ticks */
  first_timestamp: number | null;
  last_timestamp: number | null;
  /** ticks stamped earlier than one already seen (each counts as arriving at the latest time seen) */
  out_of_order: number;
}

/** The figures a strategy and the total have in common. */
export interface Performance {
  /** cash at the start */
  initial_cash: number;
  fills: number;
  /** average-cost realised P&L, before fees */
  realized_pnl: number;
  /** Σ quantity × (last price − average price) over the positions open at the end */
  unrealized_pnl: number;
  /** commissions paid (the fills' `fee`) */
  fees: number;
  /** realized_pnl + unrealized_pnl − fees */
  net_pnl: number;
  /** cash + Σ quantity × last price at the end (= initial_cash + net_pnl, up to rounding) */
  final_equity: number;
  /** net_pnl / initial_cash; null when initial_cash ≤ 0 */
  return_fraction: number | null;
  max_drawdown: Drawdown;
  round_trips: RoundTripStats;
  /**
   * the fraction (0..1) of the event time (first tick to last tick) during
   * which a position was open (in any instrument; for the total, in any
   * strategy); null when that time is zero (no ticks, or all at one instant)
   */
  exposure: number | null;
  /** equity marked to market: a start point, one point per fill, an end point */
  equity_curve: EquityPoint[];
}

export interface StrategyReport extends Performance {
  strategy_id: string;
  /** cash at the end (initial cash, plus sales, minus purchases, minus fees) */
  final_cash: number;
  /** every instrument the strategy traded, by instrument token; flat ones have quantity 0 */
  positions: FinalPosition[];
}

export interface TotalReport extends Performance {
  /** how many strategies the total adds up */
  strategies: number;
}

export interface FinalPosition {
  instrument_token: number;
  /** signed: short < 0 */
  quantity: number;
  /** 0 when flat */
  avg_price: number;
  /** the instrument's last tick price (its last fill price if it never ticked) */
  last_price: number;
  /** quantity × (last_price − avg_price) */
  unrealized_pnl: number;
  realized_pnl: number;
}

export interface EquityPoint {
  timestamp: number;
  equity: number;
}

/**
 * The largest peak-to-trough fall of an equity curve. `amount` ≥ 0. When the
 * curve never falls, amount and fraction are 0 and peak/trough are null.
 */
export interface Drawdown {
  amount: number;
  /**
   * amount / peak equity; null when the peak is ≤ 0 (a fraction of a
   * non-positive equity means nothing, e.g. with initial cash 0)
   */
  fraction: number | null;
  /** where the fall started (the running maximum) and where it bottomed */
  peak: EquityPoint | null;
  trough: EquityPoint | null;
}

/**
 * A round trip opens when an instrument's position leaves 0 and closes when
 * it returns to 0; a fill that flips the sign closes one and opens the next
 * with the excess. Its P&L is the realised P&L over it minus its fills' fees
 * (a flip's fee split pro rata by quantity).
 */
export interface RoundTripStats {
  closed: number;
  /** closed with P&L > 0 */
  winning: number;
  /** closed with P&L < 0 (P&L exactly 0 is neither) */
  losing: number;
  /** still open at the end */
  open: number;
  /** winning / closed; null when none closed */
  win_rate: number | null;
}
