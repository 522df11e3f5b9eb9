import { ATR as LibraryATR } from 'trading-signals';
import { checkPeriod, type HighLowClose, IndicatorState } from './indicator.js';

/**
 * Average true range, Wilder's. True range = max(high − low,
 * |high − previous close|, |low − previous close|), and high − low for the
 * first bar (no previous close). The first ATR is the mean of the first
 * `period` true ranges; then ATR = (ATR · (period − 1) + TR) / period.
 * Ready after `period` updates.
 *
 * Made for bars: `atr.update(bar)` takes any `{ high, low, close }` (a Bar of
 * the SDK fits). On ticks, where high = low = close, the true range is just
 * |price − previous price|. trading-signals keeps feeding a `period`-long
 * SMA under its Wilder average: O(period) per update (about 80 ns at 14).
 * It keeps a reference to the last bar it was given: do not mutate bars
 * after handing them over.
 */
export class ATR extends IndicatorState<number> {
  readonly period: number;
  readonly warmUp: number;
  readonly #atr: LibraryATR;

  constructor(period = 14) {
    super();
    this.period = checkPeriod('ATR', 'period', period);
    this.warmUp = period;
    this.#atr = new LibraryATR(period);
  }

  update(bar: HighLowClose): number | undefined {
    return this.accept(this.#atr.add(bar));
  }
}
