import type { Fill } from '../domain/fill.js';
import type { Signal } from '../domain/signal.js';
import type { SerializedError } from '../errors.js';

/** What the supervisor reports: start, dispatch rounds, reloads; its status is the status document's (src/status/status-document.ts). */
export type { SupervisorStatus, ThreadStatus, StrategyStatus } from '../status/status-document.js';

/** Why a configured strategy is not running. */
export interface StrategyRejection {
  strategyId: string;
  error: SerializedError;
}

export interface StartReport {
  running: string[];
  rejected: StrategyRejection[];
  inactive: string[];
  threads: number;
}

/** A tick a strategy failed on, in round order. */
export interface StrategyTickError {
  strategyId: string;
  /** index of the tick in the round; -1 when the whole batch was lost with its thread */
  tickIndex: number;
  error: SerializedError;
}

export interface RoundResult {
  /** ordered by tick, then strategy id, then emission order */
  signals: Signal[];
  errors: StrategyTickError[];
  /** ticks that no strategy wants */
  unrouted: number;
  /** backtest: the simulated fills decided in the round, ordered like the signals (the threads applied them) */
  fills?: Fill[];
}

export interface ReloadReport {
  added: string[];
  removed: string[];
  changed: string[];
  rejected: string[];
}

