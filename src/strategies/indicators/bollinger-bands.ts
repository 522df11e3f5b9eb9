import { BollingerBands as LibraryBollingerBands } from 'trading-signals';
import { checkPeriod, IndicatorState } from './indicator.js';

export interface BollingerBandsValue {
  /** middle + multiplier · σ */
  readonly upper: number;
  /** SMA(period) */
  readonly middle: number;
  /** middle − multiplier · σ */
  readonly lower: number;
}

/**
 * Bollinger bands: the SMA of the last `period` prices ± `multiplier`
 * standard deviations of those prices. σ is the population standard
 * deviation (divide by `period`, as Bollinger defines it and as TA-Lib and
 * StockCharts compute it; a sample σ, divide by `period − 1`, gives bands
 * √(period/(period−1)) wider: 2.6% at 20). Ready after `period` updates.
 *
 * trading-signals recomputes the mean and σ over the window on every update
 * (two passes, exact, no drift): O(period), and it allocates two arrays per
 * update (about 280 ns at 20).
 */
export class BollingerBands extends IndicatorState<BollingerBandsValue> {
  readonly period: number;
  readonly multiplier: number;
  readonly warmUp: number;
  readonly #bands: LibraryBollingerBands;

  constructor(period = 20, multiplier = 2) {
    super();
    this.period = checkPeriod('BollingerBands', 'period', period);
    if (!Number.isFinite(multiplier) || multiplier <= 0) {
      throw new RangeError(`BollingerBands: multiplier must be a finite number > 0, got ${multiplier}`);
    }
    this.multiplier = multiplier;
    this.warmUp = period;
    this.#bands = new LibraryBollingerBands(period, multiplier);
  }

  update(price: number): BollingerBandsValue | undefined {
    return this.accept(this.#bands.add(price));
  }
}
