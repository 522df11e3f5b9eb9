import type { Fill } from './fill.js';
import { applyFill, emptyPortfolio, type PortfolioView } from './portfolio.js';

/** How many recent fill ids each strategy remembers for de-duplication. */
export const FILL_ID_MEMORY = 100_000;

/**
 * The supervisor's authoritative record of every strategy's portfolio. It
 * lives on the main thread so that a strategy's thread can die without taking
 * its positions with it. Duplicate fill ids (a redelivered Kafka message, a
 * replay that repeats a fill) are ignored.
 */
export class PortfolioBook {
  readonly #initialCash: number;
  readonly #views = new Map<string, PortfolioView>();
  readonly #seen = new Map<string, Set<string>>();

  constructor(initialCash = 0) {
    this.#initialCash = initialCash;
  }

  get(strategyId: string): PortfolioView {
    let v = this.#views.get(strategyId);
    if (v === undefined) {
      v = emptyPortfolio(this.#initialCash);
      this.#views.set(strategyId, v);
    }
    return v;
  }

  /** Returns the new view, or undefined when this fill id was already applied. */
  apply(fill: Fill): PortfolioView | undefined {
    let seen = this.#seen.get(fill.strategy_id);
    if (seen === undefined) {
      seen = new Set();
      this.#seen.set(fill.strategy_id, seen);
    }
    if (seen.has(fill.fill_id)) return undefined;
    seen.add(fill.fill_id);
    if (seen.size > FILL_ID_MEMORY) {
      // Sets iterate in insertion order: drop the oldest id.
      const oldest = seen.values().next().value;
      if (oldest !== undefined) seen.delete(oldest);
    }
    const next = applyFill(this.get(fill.strategy_id), fill);
    this.#views.set(fill.strategy_id, next);
    return next;
  }
}
