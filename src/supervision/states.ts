import type { TransitionTable } from '../lifecycle/lifecycle.js';

/**
 * Lifecycle of the supervisor:
 *   created → starting → running → stopping → stopped
 *   created | starting → stopping   (stop() before or during start(): start() then leaves it stopped)
 * dispatch() and applyFill() need `running`; stop() is idempotent.
 */
export type SupervisorState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped';

export const SUPERVISOR_TRANSITIONS: TransitionTable<SupervisorState> = {
  created: ['starting', 'stopping'],
  starting: ['running', 'stopping'],
  running: ['stopping'],
  stopping: ['stopped'],
  stopped: [],
};

/**
 * Lifecycle of one strategy, as the supervisor sees it:
 *   running → restarting → running          (errors in a row, its thread died or hung, an operator asked)
 *   restarting → quarantined                (more than `intensity` restarts within the window)
 *   quarantined → restarting                (an operator resumes it, or its configuration changes)
 *   any → stopped                           (removed from the configuration, or shutdown)
 * In event time a thread decides for its strategies and the supervisor
 * mirrors it: running → quarantined and quarantined → running happen there.
 * A strategy being started for the first time is `restarting` until it runs.
 * Only `running` strategies are in the route table.
 */
export type StrategyState = 'running' | 'restarting' | 'quarantined' | 'stopped';

export const STRATEGY_TRANSITIONS: TransitionTable<StrategyState> = {
  running: ['restarting', 'quarantined', 'stopped'],
  restarting: ['running', 'quarantined', 'stopped'],
  quarantined: ['restarting', 'running', 'stopped'],
  stopped: [],
};

/**
 * Lifecycle of a host (one strategy thread):
 *   created → starting → ready → stopping → stopped
 *   created | starting | ready | stopping → failed   (the thread died, did not answer, or was terminated)
 *   created | starting → stopping                    (stopped before it was ready)
 * Only `ready` accepts batches.
 */
export type HostState = 'created' | 'starting' | 'ready' | 'stopping' | 'stopped' | 'failed';

export const HOST_TRANSITIONS: TransitionTable<HostState> = {
  created: ['starting', 'stopping', 'failed'],
  starting: ['ready', 'stopping', 'failed'],
  ready: ['stopping', 'failed'],
  stopping: ['stopped', 'failed'],
  stopped: [],
  failed: [],
};
