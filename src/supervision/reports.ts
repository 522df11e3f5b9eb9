import type { Signal } from '../domain/signal.js';
import type { SerializedError } from '../errors.js';
import type { HostState, SupervisorState } from './states.js';

/** What the supervisor reports: start, dispatch rounds, reloads, status. */

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
}

export interface ThreadStatus {
  thread: number;
  thread_id: number;
  state: HostState | 'unresponsive';
  strategies: Record<string, unknown>[];
  ticks_in: number | null;
  signals_out: number | null;
  errors: number | null;
  queue_depth: number;
  last_heartbeat_age_ms: number | null;
  heap_used_bytes: number | null;
  /** the thread's committed V8 heap (young generation included): most of a thread's resident memory */
  heap_total_bytes: number | null;
  restarts: number;
  last_failure: string | null;
  failure: string | null;
}

export interface ReloadReport {
  added: string[];
  removed: string[];
  changed: string[];
  rejected: string[];
}

export interface SupervisorStatus {
  state: SupervisorState;
  threads: ThreadStatus[];
  rejected: { id: string; code: string; error: string }[];
  totals: Record<string, number>;
  routing: { instruments: number; strategies: number };
}
