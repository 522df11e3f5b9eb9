import type { TransitionTable } from '../lifecycle/lifecycle.js';

/** The states of a configuration watcher: following changes (`active`), or only partly (`degraded`). */
export type WatcherState<A extends string, D extends string> = 'created' | 'starting' | A | D | 'stopping' | 'stopped';

/**
 * The lifecycle both configuration watchers share (ConfigChangeListener,
 * FileConfigWatcher): created → starting → active | degraded;
 * active → degraded; degraded → active when `recovers`; any → stopping → stopped.
 */
export function watcherTransitions<A extends string, D extends string>(active: A, degraded: D, recovers: boolean): TransitionTable<WatcherState<A, D>> {
  return {
    created: ['starting', 'stopping'],
    starting: [active, degraded, 'stopping'],
    [active]: [degraded, 'stopping'],
    [degraded]: recovers ? [active, 'stopping'] : ['stopping'],
    stopping: ['stopped'],
    stopped: [],
  } as TransitionTable<WatcherState<A, D>>;
}
