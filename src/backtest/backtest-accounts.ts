import type { Fill } from '../domain/fill.js';
import { applyFill, emptyPortfolio, type PortfolioView } from '../domain/portfolio.js';
import type { Tick } from '../domain/tick.js';
import { RunnerError } from '../errors.js';
import { maxDrawdown } from './drawdown.js';
import type { BacktestReport, EquityPoint, FinalPosition, StrategyReport, TotalReport } from './report.js';
import { RoundTrips, sumRoundTrips } from './round-trips.js';

export interface BacktestAccountsOptions<S = unknown> {
  /** every strategy starts with this cash */
  initialCash: number;
  /** the strategies in the report, in this order (those that never fill included) */
  strategies: readonly string[];
  /** echoed as the report's `settings` */
  settings?: S;
}

/**
 * The accounts of a backtest, fed as the run streams: `onTick` for every tick
 * in time order, `onFill` for every simulated fill, then `report()` once.
 * Only the last price of each instrument is kept, never the ticks.
 *
 * Ordering rule: a fill stamped T takes effect after every tick stamped ≤ T
 * and before the first tick stamped > T (ties go to ticks). Fills wait in a
 * queue (by timestamp, stable) until a later tick (or `report()`) lets them
 * through, so a caller may hand over a fill before or after the ticks at its
 * own timestamp, but never after a tick stamped later than it: `onFill`
 * throws FILL_INVALID then, because the marks it needs are gone.
 *
 * A tick stamped earlier than one already seen (an out-of-order file) is
 * counted and taken as arriving at the latest time seen: the clock never
 * goes back. An instrument that has not ticked yet is marked at its last
 * fill price.
 */
export class BacktestAccounts<S = unknown> {
  readonly #initialCash: number;
  readonly #settings: S | null;
  readonly #books: ReadonlyMap<string, StrategyBook>;
  readonly #lastPrice = new Map<number, number>();
  readonly #lastFillPrice = new Map<number, number>();
  /** fills not yet applied, ordered by timestamp (stable) from #head on */
  #pending: Fill[] = [];
  #head = 0;
  #ticks = 0;
  #outOfOrder = 0;
  #firstTick: number | undefined;
  /** the latest tick timestamp seen */
  #clock: number | undefined;
  #firstFill: number | undefined;
  #lastFill: number | undefined;
  /** one point per fill of any strategy: the sum of every strategy's equity */
  readonly #totalCurve: EquityPoint[] = [];
  readonly #totalExposure = new ExposureTimer();
  #report: BacktestReport<S> | undefined;

  constructor(options: BacktestAccountsOptions<S>) {
    if (!Number.isFinite(options.initialCash)) {
      throw new RangeError(`backtest accounts: initialCash must be a finite number, got ${options.initialCash}`);
    }
    this.#initialCash = options.initialCash;
    this.#settings = options.settings ?? null;
    const books = new Map<string, StrategyBook>();
    for (const id of options.strategies) {
      if (books.has(id)) throw new RangeError(`backtest accounts: strategy id ${JSON.stringify(id)} is listed twice`);
      books.set(id, {
        id,
        portfolio: emptyPortfolio(options.initialCash),
        trips: new RoundTrips(),
        curve: [],
        exposure: new ExposureTimer(),
      });
    }
    this.#books = books;
  }

  /** Hot path (once per tick): a comparison, rarely the fill queue, one Map write; no allocation. */
  onTick(tick: Tick): void {
    this.#requireOpen('onTick');
    const t = tick.timestamp;
    this.#ticks++;
    if (this.#firstTick === undefined) this.#firstTick = t;
    if (this.#clock === undefined || t > this.#clock) {
      this.#clock = t;
      // Fills stamped before t come between the ticks up to their time and this one.
      if (this.#head < this.#pending.length && this.#pending[this.#head]!.timestamp < t) this.#applyPending(t);
    } else if (t < this.#clock) {
      this.#outOfOrder++;
    }
    this.#lastPrice.set(tick.instrument_token, tick.last_price);
  }

  onFill(fill: Fill): void {
    this.#requireOpen('onFill');
    if (!this.#books.has(fill.strategy_id)) {
      throw new RunnerError('FILL_INVALID', `backtest: fill ${fill.fill_id} is for strategy ${JSON.stringify(fill.strategy_id)}, which is not in the backtest`, {
        details: { fillId: fill.fill_id, strategyId: fill.strategy_id },
      });
    }
    if (this.#clock !== undefined && fill.timestamp < this.#clock) {
      throw new RunnerError(
        'FILL_INVALID',
        `backtest: fill ${fill.fill_id} (strategy ${fill.strategy_id}) stamped ${fill.timestamp} arrived after a tick stamped ${this.#clock}; ` +
          'a fill must be handed over before any tick later than it',
        { details: { fillId: fill.fill_id, strategyId: fill.strategy_id, fillTimestamp: fill.timestamp, clock: this.#clock } },
      );
    }
    // Insert after every pending fill stamped ≤ this one (stable); fills usually come in order, so this is an append.
    const q = this.#pending;
    let lo = this.#head;
    let hi = q.length;
    if (hi > lo && q[hi - 1]!.timestamp > fill.timestamp) {
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (q[mid]!.timestamp <= fill.timestamp) lo = mid + 1;
        else hi = mid;
      }
      q.splice(lo, 0, fill);
    } else {
      q.push(fill);
    }
  }

  /**
   * Applies the fills still waiting (those stamped at or after the last tick)
   * and computes the report. The accounts are closed afterwards: a second
   * call returns the same report; onTick/onFill throw.
   */
  report(): BacktestReport<S> {
    if (this.#report !== undefined) return this.#report;
    this.#applyPending(Infinity);
    const first = minDefined(this.#firstTick, this.#firstFill);
    const last = maxDefined(this.#clock, this.#lastFill);
    const span = this.#firstTick !== undefined && this.#clock !== undefined ? this.#clock - this.#firstTick : 0;
    const exposure = (timer: ExposureTimer): number | null => (span > 0 ? timer.totalMs(this.#firstTick!, this.#clock!) / span : null);

    const strategies: StrategyReport[] = [];
    for (const book of this.#books.values()) {
      const p = book.portfolio;
      const positions: FinalPosition[] = [];
      let unrealized = 0;
      let marked = 0;
      for (const x of [...p.positions.values()].sort((a, b) => a.instrumentToken - b.instrumentToken)) {
        const lastPrice = this.#mark(x.instrumentToken);
        const u = x.quantity === 0 ? 0 : x.quantity * (lastPrice - x.avgPrice);
        unrealized += u;
        marked += x.quantity * lastPrice;
        positions.push({
          instrument_token: x.instrumentToken,
          quantity: x.quantity,
          avg_price: x.avgPrice,
          last_price: lastPrice,
          unrealized_pnl: u,
          realized_pnl: x.realizedPnl,
        });
      }
      const finalEquity = p.cash + marked;
      const curve = bracket(book.curve, first, last, this.#initialCash, finalEquity);
      const netPnl = p.realizedPnl + unrealized - p.fees;
      strategies.push({
        strategy_id: book.id,
        initial_cash: this.#initialCash,
        fills: p.fillCount,
        realized_pnl: p.realizedPnl,
        unrealized_pnl: unrealized,
        fees: p.fees,
        net_pnl: netPnl,
        final_equity: finalEquity,
        return_fraction: returnFraction(netPnl, this.#initialCash),
        max_drawdown: maxDrawdown(curve),
        round_trips: book.trips.stats(),
        exposure: exposure(book.exposure),
        equity_curve: curve,
        final_cash: p.cash,
        positions,
      });
    }

    const sum = (f: (s: StrategyReport) => number): number => strategies.reduce((acc, s) => acc + f(s), 0);
    const initialCash = this.#initialCash * strategies.length;
    const finalEquity = sum((s) => s.final_equity);
    const netPnl = sum((s) => s.net_pnl);
    const totalCurve = bracket(this.#totalCurve, first, last, initialCash, finalEquity);
    const total: TotalReport = {
      strategies: strategies.length,
      initial_cash: initialCash,
      fills: sum((s) => s.fills),
      realized_pnl: sum((s) => s.realized_pnl),
      unrealized_pnl: sum((s) => s.unrealized_pnl),
      fees: sum((s) => s.fees),
      net_pnl: netPnl,
      final_equity: finalEquity,
      return_fraction: returnFraction(netPnl, initialCash),
      max_drawdown: maxDrawdown(totalCurve),
      round_trips: sumRoundTrips(strategies.map((s) => s.round_trips)),
      exposure: exposure(this.#totalExposure),
      equity_curve: totalCurve,
    };

    this.#report = {
      settings: this.#settings,
      ticks: {
        count: this.#ticks,
        first_timestamp: this.#firstTick ?? null,
        last_timestamp: this.#clock ?? null,
        out_of_order: this.#outOfOrder,
      },
      strategies,
      total,
    };
    return this.#report;
  }

  /** Applies the queued fills stamped before `before`, in order. */
  #applyPending(before: number): void {
    const q = this.#pending;
    while (this.#head < q.length && q[this.#head]!.timestamp < before) this.#apply(q[this.#head++]!);
    if (this.#head === q.length) {
      this.#pending = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > q.length) {
      q.splice(0, this.#head);
      this.#head = 0;
    }
  }

  #apply(fill: Fill): void {
    const book = this.#books.get(fill.strategy_id)!;
    const token = fill.instrument_token;
    const before = book.portfolio.positions.get(token);
    const q0 = before?.quantity ?? 0;
    book.portfolio = applyFill(book.portfolio, fill);
    const after = book.portfolio.positions.get(token)!;
    const q1 = after.quantity;
    book.trips.record(token, q0, q1, after.realizedPnl - (before?.realizedPnl ?? 0), fill.quantity, fill.fee ?? 0);
    this.#lastFillPrice.set(token, fill.price);
    const t = fill.timestamp;
    if (this.#firstFill === undefined) this.#firstFill = t;
    this.#lastFill = t;

    // Exposure: the strategy is exposed while any of its positions is open; the total while any strategy is.
    const from = this.#firstTick ?? t;
    const to = this.#clock ?? t;
    if (q0 === 0 && q1 !== 0) {
      if (book.exposure.open(t)) this.#totalExposure.open(t);
    } else if (q0 !== 0 && q1 === 0) {
      if (book.exposure.close(t, from, to)) this.#totalExposure.close(t, from, to);
    }

    // Marked at this moment: every strategy's equity changes with the marks,
    // so the total is summed afresh (fills are rare next to ticks).
    book.curve.push({ timestamp: t, equity: this.#equity(book.portfolio) });
    let total = 0;
    for (const b of this.#books.values()) total += this.#equity(b.portfolio);
    this.#totalCurve.push({ timestamp: t, equity: total });
  }

  #equity(p: PortfolioView): number {
    let e = p.cash;
    for (const x of p.positions.values()) if (x.quantity !== 0) e += x.quantity * this.#mark(x.instrumentToken);
    return e;
  }

  /** The last tick price, else the last fill price (an instrument that has not ticked yet). */
  #mark(token: number): number {
    return this.#lastPrice.get(token) ?? this.#lastFillPrice.get(token) ?? 0;
  }

  #requireOpen(what: string): void {
    if (this.#report !== undefined) {
      throw new RunnerError('INVALID_TRANSITION', `backtest accounts: ${what} after report() (the accounts are closed)`);
    }
  }
}

/** A whole backtest at once (tests, small inputs): fills queue first, then the ticks let them through. */
export function buildBacktestReport<S = unknown>(
  input: BacktestAccountsOptions<S> & { ticks: Iterable<Tick>; fills: Iterable<Fill> },
): BacktestReport<S> {
  const accounts = new BacktestAccounts<S>(input);
  for (const f of input.fills) accounts.onFill(f);
  for (const t of input.ticks) accounts.onTick(t);
  return accounts.report();
}

interface StrategyBook {
  readonly id: string;
  portfolio: PortfolioView;
  readonly trips: RoundTrips;
  /** one point per fill */
  readonly curve: EquityPoint[];
  readonly exposure: ExposureTimer;
}

/**
 * Time during which at least one position is open, clipped to the event time
 * [from, to] (first tick, latest tick) given when an interval ends.
 */
class ExposureTimer {
  #open = 0;
  #since = 0;
  #ms = 0;

  /** A position opened at `at`; true when this starts an exposed interval. */
  open(at: number): boolean {
    if (this.#open++ > 0) return false;
    this.#since = at;
    return true;
  }

  /** A position closed at `at`; true when this ends an exposed interval. */
  close(at: number, from: number, to: number): boolean {
    if (--this.#open > 0) return false;
    this.#ms += overlap(this.#since, at, from, to);
    return true;
  }

  totalMs(from: number, to: number): number {
    return this.#ms + (this.#open > 0 ? overlap(this.#since, to, from, to) : 0);
  }
}

function overlap(a: number, b: number, from: number, to: number): number {
  return Math.max(0, Math.min(b, to) - Math.max(a, from));
}

/** The curve with its start point (initial cash) and end point (final equity); empty when the backtest saw nothing. */
function bracket(points: readonly EquityPoint[], first: number | undefined, last: number | undefined, start: number, end: number): EquityPoint[] {
  if (first === undefined || last === undefined) return [];
  return [{ timestamp: first, equity: start }, ...points, { timestamp: last, equity: end }];
}

function returnFraction(netPnl: number, initialCash: number): number | null {
  return initialCash > 0 ? netPnl / initialCash : null;
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

function maxDefined(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}
