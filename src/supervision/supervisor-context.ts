import type { Logger } from 'pino';
import type { PortfolioBook } from '../domain/portfolio-book.js';
import type { Lifecycle } from '../lifecycle/lifecycle.js';
import type { SupervisionOptions, SupervisorOptions } from './supervision-options.js';
import type { SupervisorState } from './states.js';
import type { StrategyTable } from './strategy-table.js';
import type { TickHistory } from './tick-history.js';

/** Counters for the status document (they only grow). */
export interface SupervisorTotals {
  rounds: number;
  ticks: number;
  unrouted: number;
  signals: number;
  tickErrors: number;
  droppedTicks: number;
  conflatedTicks: number;
  behindEpisodes: number;
  rejectedUpdates: number;
  fillsApplied: number;
  fillsDuplicate: number;
  fillsUnknown: number;
}

export function newTotals(): SupervisorTotals {
  return { rounds: 0, ticks: 0, unrouted: 0, signals: 0, tickErrors: 0, droppedTicks: 0, conflatedTicks: 0, behindEpisodes: 0, rejectedUpdates: 0, fillsApplied: 0, fillsDuplicate: 0, fillsUnknown: 0 };
}

/**
 * What the parts of the supervisor (thread pool, router, dispatcher,
 * restarter, config reconciler, fills, status) share: built once by the
 * Supervisor facade and handed to each of them.
 */
export interface SupervisorContext {
  readonly options: SupervisorOptions;
  readonly sup: SupervisionOptions;
  readonly log: Logger;
  /** replay: threads supervise their strategies by event time */
  readonly eventTime: boolean;
  readonly life: Lifecycle<SupervisorState>;
  readonly strategies: StrategyTable;
  readonly book: PortfolioBook;
  readonly history: TickHistory;
  readonly totals: SupervisorTotals;
  /** Build a new route table from the running strategies and swap it in whole (and what depends on it). */
  rebuildRoutes(): void;
}
