/**
 * What every indicator of the SDK has in common. One convention for all:
 * `value` is `undefined` until `ready`, and `update(...)` returns the new
 * `value` (so `undefined` during the warm-up too). Once ready, an indicator
 * stays ready.
 *
 * Indicators are plain single-owner state: one instance per series (per
 * instrument: see `perInstrument`). Feed them finite numbers: inputs are not
 * checked per update (that would cost on the hot path), and one NaN makes
 * every later value NaN.
 */
export interface Indicator<Value> {
  /** The latest value; `undefined` until `ready`. */
  readonly value: Value | undefined;
  /** Whether enough inputs have been seen for `value` to be defined. */
  readonly ready: boolean;
  /** Inputs seen so far (every `update` call). */
  readonly count: number;
  /** How many inputs it takes to become ready. */
  readonly warmUp: number;
}

/** A bar or anything with the three prices ATR reads (a Bar of the SDK fits). */
export interface HighLowClose {
  readonly high: number;
  readonly low: number;
  readonly close: number;
}

/** Construction-time check, never per update: a period is an integer of at least `min`. */
export function checkPeriod(indicator: string, name: string, value: number, min = 1): number {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`${indicator}: ${name} must be an integer >= ${min}, got ${value}`);
  }
  return value;
}
