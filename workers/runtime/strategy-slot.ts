import type { Logger } from 'pino';
import type { StrategyConfig } from '../../src/config/strategy-config.js';
import type { PortfolioView } from '../../src/domain/portfolio.js';
import { LatencyHistogram } from '../../src/metrics/latency-histogram.js';
import type { SerializedError } from '../../src/errors.js';
import { Lifecycle, type TransitionTable } from '../../src/lifecycle/lifecycle.js';
import type { SlotHealth, SlotState } from '../../src/protocol/messages.js';
import type { SimulatedExecution } from '../../src/backtest/fill-model.js';
import { StrategyHost } from '../../src/strategies/engine/strategy-host.js';
import type { StrategyInstance } from '../../src/strategies/sdk/types.js';

/** A slot's legal moves: `down` is event-time supervision's (replay) retired instance, waiting for its restart. */
const SLOT_TRANSITIONS: TransitionTable<SlotState> = {
  starting: ['running', 'failed'],
  running: ['down', 'stopping'],
  down: ['running', 'stopping'],
  stopping: ['stopped'],
  stopped: [],
  failed: [],
};

/**
 * One strategy living in a thread: its host (contexts, portfolio, driver of
 * its instance), its lifecycle, its counters. Several slots may share a
 * thread; none shares state with another.
 */
export class StrategySlot extends StrategyHost {
  readonly slot: number;
  /** replaced when onParams takes new parameters live */
  config: StrategyConfig;
  readonly latency = new LatencyHistogram();
  instance: StrategyInstance | undefined;
  readonly life: Lifecycle<SlotState>;
  ticksIn = 0;
  signalsOut = 0;
  errors = 0;
  consecutiveErrors = 0;
  fillsApplied = 0;
  lastError: SerializedError | undefined;
  // Event-time supervision (replay; see event-time-supervisor.ts).
  /** while `down`: the event time it comes back at (Infinity: quarantined) */
  resumeAt = 0;
  /** event times of its restarts within the restart window */
  readonly recentRestarts: number[] = [];
  /** restart attempts */
  restarts = 0;
  /** the onStop of a retired instance, while it runs */
  stopping: Promise<void> | undefined;

  get state(): SlotState {
    return this.life.state;
  }

  constructor(slot: number, config: StrategyConfig, portfolio: PortfolioView, logger: Logger, sim?: SimulatedExecution) {
    super(config, portfolio, logger, sim);
    this.life = new Lifecycle<SlotState>(`strategy slot ${slot}`, 'starting', SLOT_TRANSITIONS);
    this.slot = slot;
    this.config = config;
  }

  health(): SlotHealth {
    const h: SlotHealth = {
      slot: this.slot,
      strategyId: this.config.id,
      strategyType: this.config.strategy_type,
      state: this.state,
      ticksIn: this.ticksIn,
      signalsOut: this.signalsOut,
      errors: this.errors,
      consecutiveErrors: this.consecutiveErrors,
      fillsApplied: this.fillsApplied,
      latencyUs: this.latency.summary(),
    };
    return this.lastError === undefined ? h : { ...h, lastError: this.lastError };
  }
}
