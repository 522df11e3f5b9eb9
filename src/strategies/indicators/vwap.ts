import { IndicatorState } from './indicator.js';

/**
 * Volume-weighted average price, cumulative: Σ price · volume / Σ volume over
 * every update since construction or the last `reset()` (call it at each
 * session start for a session VWAP). Ready after the first update with a
 * volume above 0; an update with volume 0 changes nothing.
 *
 * - ticks: `vwap.update(tick.last_price, tick.volume ?? 0)`, the volume being
 *   the quantity traded at that price (if your feed sends the day's cumulative
 *   volume instead, pass the difference from the previous tick);
 * - bars: `vwap.update(bar.vwap, bar.volume)`: the bar's own VWAP weighted
 *   by its volume adds exactly what its ticks would have added. Where a bar has
 *   no VWAP, the typical price (high + low + close) / 3 is the usual stand-in.
 *
 * Written here, not taken from trading-signals: its VWAP takes candles and
 * weights their typical price, so a tick would become a candle object
 * with high = low = close = price (an allocation per tick), and (p + p + p) / 3
 * is not always p in floating point (143 of 600 prices tested came back an
 * ulp off); nor does it reset. Two running sums: O(1). Inputs are not
 * checked per update (finite price, volume ≥ 0).
 */
export class VWAP extends IndicatorState<number> {
  readonly warmUp = 1;
  #priceVolume = 0;
  #volume = 0;

  update(price: number, volume: number): number | undefined {
    if (volume > 0) {
      this.#priceVolume += price * volume;
      this.#volume += volume;
    }
    return this.accept(this.#volume > 0 ? this.#priceVolume / this.#volume : undefined);
  }

  /** Back to the state of a new VWAP (a new session): not ready, count 0. */
  reset(): void {
    this.#priceVolume = 0;
    this.#volume = 0;
    this.clear();
  }

  /** Σ volume since the start or the last reset. */
  get volume(): number {
    return this.#volume;
  }
}
