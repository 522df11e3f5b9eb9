import type { StrategyConfig } from '../config/strategy-config.js';
import type { Tick } from '../domain/tick.js';
import { Lifecycle } from '../lifecycle/lifecycle.js';
import { STRATEGY_TRANSITIONS, type StrategyState } from './states.js';

export interface RejectedUpdate {
  code: string;
  error: string;
  fields: readonly string[];
  /** the rejected configuration, as JSON: the same one read again is not news */
  json: string;
}

/** One configured strategy as the supervisor keeps it: where it lives, its state, what supervision did to it. */
export class StrategyEntry {
  config: StrategyConfig;
  host: number;
  slot: number;
  /** its state: changed only through the transition table (states.ts) */
  readonly life: Lifecycle<StrategyState>;
  /** restarts that counted against the restart intensity, within the window */
  recentRestarts: number[] = [];
  /** restart attempts since the strategy first started */
  restarts = 0;
  lastRestartReason: string | undefined;
  quarantineReason: string | undefined;
  /** bumped whenever a restart begins or is superseded: an older restart still awaiting something gives up */
  generation = 0;
  /** set while a restart waits out its back-off; aborting it ends the wait early (the restart then sees it was superseded) */
  backoff: AbortController | undefined;
  /** a tick the strategy hung or crashed on: never re-warm it with that one */
  poison: Tick | undefined;
  /** ticks replaced by a newer one while its thread was saturated (never seen by the strategy) */
  conflatedTicks = 0;
  /** times its thread was found behind for longer than the bound (each one a conflation or a hold) */
  behindEpisodes = 0;
  /** the last configuration update that could not be applied (the running version kept running), until the source changes again */
  rejectedUpdate: RejectedUpdate | undefined;
  /** configuration updates rejected since it started */
  rejectedUpdates = 0;
  /** down by its thread's own decision (event time): kept in the routes, its thread skips and counts its ticks */
  threadDown = false;
  /** ticks it was routed none of, or its thread skipped, because it was restarting or quarantined */
  missedTicks = 0;
  /**
   * While a changed configuration is being started: the version that ran
   * before it. If the new one fails to start (create() or onStart throws),
   * the update is rejected and this one runs again.
   */
  rollback: { config: StrategyConfig; fields: readonly string[]; json: string } | undefined;

  /** A strategy being started: `restarting` until its thread has started it. */
  constructor(config: StrategyConfig, host: number, slot: number) {
    this.config = config;
    this.host = host;
    this.slot = slot;
    this.life = new Lifecycle<StrategyState>(`strategy '${config.id}'`, 'restarting', STRATEGY_TRANSITIONS);
  }

  get state(): StrategyState {
    return this.life.state;
  }

  get id(): string {
    return this.config.id;
  }

  /** End a pending back-off wait (the restart waiting on it sees it was superseded). */
  endBackoff(): void {
    const b = this.backoff;
    this.backoff = undefined;
    b?.abort();
  }

  /** Supersede whatever restart is under way (it gives up at its next step). */
  supersede(): void {
    this.generation++;
    this.endBackoff();
  }
}
