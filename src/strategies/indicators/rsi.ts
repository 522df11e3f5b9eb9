import { RSI as LibraryRSI } from 'trading-signals';
import { checkPeriod, IndicatorState } from './indicator.js';

/**
 * Relative strength index, Wilder's: the first average gain and loss are the
 * simple means of the first `period` price changes, then
 * avg = (avg · (period − 1) + change) / period; RSI = 100 − 100 / (1 + gain/loss).
 * Ready after `period + 1` updates (`period` changes). Reproduces
 * StockCharts' worked RSI(14) example to its two decimals.
 *
 * An average loss of 0 gives 100, also when the average gain is 0 too (a
 * price that has not moved since the first update): the library's
 * convention; RSI is undefined there.
 * trading-signals keeps feeding a `period`-long SMA under its Wilder average:
 * O(period) per update (about 150 ns at 14).
 */
export class RSI extends IndicatorState<number> {
  readonly period: number;
  readonly warmUp: number;
  readonly #rsi: LibraryRSI;

  /** `period` ≥ 2 (trading-signals' RSI(1) never becomes ready). */
  constructor(period = 14) {
    super();
    this.period = checkPeriod('RSI', 'period', period, 2);
    this.warmUp = period + 1;
    this.#rsi = new LibraryRSI(period);
  }

  update(price: number): number | undefined {
    return this.accept(this.#rsi.add(price));
  }
}
