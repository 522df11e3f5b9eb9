import { EMA as LibraryEMA, MACD as LibraryMACD } from 'trading-signals';
import { checkPeriod, IndicatorState } from './indicator.js';

export interface MACDValue {
  /** EMA(fast) − EMA(slow) */
  readonly macd: number;
  /** EMA(signal) of `macd` */
  readonly signal: number;
  /** macd − signal */
  readonly histogram: number;
}

export interface MACDSettings {
  /** default 12 */
  readonly fast?: number;
  /** default 26 */
  readonly slow?: number;
  /** default 9 */
  readonly signal?: number;
}

/**
 * Moving average convergence/divergence (Appel): the fast EMA minus the slow
 * EMA of the price, its signal line (an EMA of that difference) and the
 * histogram (difference minus signal). Ready after `slow + signal − 1`
 * updates (34 for 12/26/9), when the signal line has seen `signal` values of
 * the MACD line, as in the textbook.
 *
 * The three EMAs follow the EMA convention of this SDK (seeded with their
 * first input, see `EMA`): the slow EMA starts at the first price, the signal
 * EMA at the first MACD value (update `slow`). StockCharts and TA-Lib seed
 * each with an SMA instead, so early values differ (up to 0.18 at `ready` on
 * a random walk around 100: docs/dependencies.md) and converge as the EMAs
 * forget their seeds. O(1) per update (the library also keeps the last
 * `slow` prices; it reads only their count).
 */
export class MACD extends IndicatorState<MACDValue> {
  readonly fast: number;
  readonly slow: number;
  readonly signal: number;
  readonly warmUp: number;
  readonly #macd: LibraryMACD;

  constructor(settings: MACDSettings = {}) {
    super();
    const { fast = 12, slow = 26, signal = 9 } = settings;
    this.fast = checkPeriod('MACD', 'fast', fast);
    this.slow = checkPeriod('MACD', 'slow', slow);
    this.signal = checkPeriod('MACD', 'signal', signal);
    if (fast >= slow) throw new RangeError(`MACD: fast (${fast}) must be shorter than slow (${slow})`);
    this.warmUp = slow + signal - 1;
    this.#macd = new LibraryMACD(new LibraryEMA(fast), new LibraryEMA(slow), new LibraryEMA(signal));
  }

  update(price: number): MACDValue | undefined {
    // The library answers from update `slow` on, before its signal EMA has warmed up: hold back until then.
    return this.accept(this.#macd.add(price), true);
  }
}
