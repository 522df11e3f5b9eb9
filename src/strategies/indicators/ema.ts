import { EMA as LibraryEMA } from 'trading-signals';
import { checkPeriod, IndicatorState } from './indicator.js';

/**
 * Exponential moving average, α = 2 / (period + 1):
 * EMA_t = α · price_t + (1 − α) · EMA_{t−1}. Ready after `period` updates.
 *
 * Seeding (trading-signals' convention): the first price is the first EMA
 * (EMA_0 = price_0), not the SMA of the first `period` prices that
 * StockCharts and TA-Lib use. The two differ by (1 − α)^t times their
 * difference at the seed: at `ready` they can differ visibly (EMA(3) of 1, 2,
 * 3 is 2.25 here, 2 with an SMA seed); 4 × period updates later the gap is
 * about e^−8 ≈ 0.03% of what it was (EMA(20): 0.905^80 ≈ 0.00033). Warm up
 * longer than `period` if you compare against SMA-seeded figures.
 * O(1) per update.
 */
export class EMA extends IndicatorState<number> {
  readonly period: number;
  readonly warmUp: number;
  readonly #ema: LibraryEMA;

  constructor(period: number) {
    super();
    this.period = checkPeriod('EMA', 'period', period);
    this.warmUp = period;
    this.#ema = new LibraryEMA(period);
  }

  update(price: number): number | undefined {
    // The library's own isStable throws and catches an error while it warms up: count here instead.
    return this.accept(this.#ema.add(price), true);
  }
}
