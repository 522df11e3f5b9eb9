import type { Logger } from 'pino';
import type { SimulatedExecution } from '../../backtest/fill-model.js';
import type { PortfolioView } from '../../domain/portfolio.js';
import type { StrategyContext, TickContext } from '../sdk/types.js';
import type { BarSpec } from './bars.js';
import { StrategyDriver, type DriverHost } from './strategy-driver.js';

/** The facts of one strategy configuration a host needs. */
export interface HostedStrategy {
  readonly id: string;
  readonly strategy_type: string;
  readonly instruments: readonly number[];
  readonly brokers: readonly string[];
}

/**
 * One strategy's home, wherever it runs (a thread's slot, the test kit):
 * its contexts, its portfolio, its simulated market (backtest) and the
 * driver of its current instance. `renew()` gives each new instance (a
 * restart) a fresh clock, timers and bars; the portfolio and the simulated
 * orders stay.
 */
export class StrategyHost implements DriverHost {
  readonly strategyId: string;
  readonly strategyType: string;
  readonly instruments: readonly number[];
  readonly brokers: readonly string[];
  readonly context: StrategyContext;
  /** Handed to every handler; `portfolio` reads the host's current one. */
  readonly tickContext: TickContext;
  portfolio: PortfolioView;
  readonly sim: SimulatedExecution | undefined;
  #driver: StrategyDriver;

  constructor(config: HostedStrategy, portfolio: PortfolioView, logger: Logger, sim?: SimulatedExecution) {
    this.strategyId = config.id;
    this.strategyType = config.strategy_type;
    this.instruments = Object.freeze([...config.instruments]);
    this.brokers = Object.freeze([...config.brokers]);
    this.portfolio = portfolio;
    this.sim = sim;
    this.#driver = new StrategyDriver(this, undefined, sim);
    const self = this;
    this.context = Object.freeze({
      strategyId: config.id,
      strategyType: config.strategy_type,
      instruments: this.instruments,
      brokers: this.brokers,
      logger,
      now: () => self.#driver.now(),
      schedule: (spec) => self.#driver.schedule(spec),
      cancel: (timer) => self.#driver.cancel(timer),
    } satisfies StrategyContext);
    const ctx = Object.create(this.context) as TickContext;
    Object.defineProperty(ctx, 'portfolio', { get: () => self.portfolio, enumerable: true });
    this.tickContext = Object.freeze(ctx);
  }

  get driver(): StrategyDriver {
    return this.#driver;
  }

  /** A fresh driver for a new instance (set its `instance` once created). */
  renew(bars: readonly BarSpec[] | undefined): StrategyDriver {
    this.#driver = new StrategyDriver(this, bars, this.sim);
    return this.#driver;
  }
}
