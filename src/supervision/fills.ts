import type { Fill } from '../domain/fill.js';
import { portfolioToJSON, type PortfolioJSON } from '../domain/portfolio.js';
import type { SupervisorContext } from './supervisor-context.js';
import type { ThreadPool } from './thread-pool.js';

/**
 * Fills: each is applied to its strategy's portfolio here (the book on the
 * main thread is authoritative) and sent to the strategy's thread, after
 * any ticks already sent to it.
 */
export class Fills {
  readonly #ctx: SupervisorContext;
  readonly #pool: ThreadPool;

  constructor(ctx: SupervisorContext, pool: ThreadPool) {
    this.#ctx = ctx;
    this.#pool = pool;
  }

  apply(fill: Fill): 'applied' | 'duplicate' | 'unknown-strategy' {
    const { strategies, book, totals } = this.#ctx;
    const entry = strategies.get(fill.strategy_id);
    const next = book.apply(fill);
    if (next === undefined) {
      totals.fillsDuplicate++;
      return 'duplicate';
    }
    if (entry === undefined) {
      // Kept: the strategy may start later (or be rejected now and fixed); its portfolio is ready then.
      totals.fillsUnknown++;
      return 'unknown-strategy';
    }
    totals.fillsApplied++;
    // A strategy its thread took down (event time) still gets its fills: the thread keeps its portfolio for the restart.
    if (entry.state === 'running' || entry.threadDown) this.#pool.host(entry.host)?.sendFill(entry.slot, fill, next);
    return 'applied';
  }

  /**
   * A backtest's simulated fill, which its strategy's thread has applied
   * already: booked here so that the authoritative book (status, a restart)
   * agrees with the thread, and not sent back.
   */
  book(fill: Fill): void {
    const { book, totals } = this.#ctx;
    if (book.apply(fill) === undefined) totals.fillsDuplicate++;
    else totals.fillsApplied++;
  }

  portfolioOf(strategyId: string): PortfolioJSON {
    return portfolioToJSON(this.#ctx.book.get(strategyId));
  }
}
