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

/**
 * The state every indicator keeps the same way: inputs counted, the latest
 * value, ready once it has one. A subclass computes; `accept` records.
 */
export abstract class IndicatorState<Value> implements Indicator<Value> {
  abstract readonly warmUp: number;
  #count = 0;
  #value: Value | undefined = undefined;

  /**
   * Count one input; keep `v` as the value unless it is null or undefined
   * (still warming up), or the count has not reached `warmUp` yet when
   * `untilWarm` (a library that answers before its textbook first value).
   */
  protected accept(v: Value | null | undefined, untilWarm = false): Value | undefined {
    this.#count++;
    if (v !== null && v !== undefined && (!untilWarm || this.#count >= this.warmUp)) this.#value = v;
    return this.#value;
  }

  /** Back to the state of a new indicator: no input, no value. */
  protected clear(): void {
    this.#count = 0;
    this.#value = undefined;
  }

  get value(): Value | undefined {
    return this.#value;
  }

  get ready(): boolean {
    return this.#value !== undefined;
  }

  get count(): number {
    return this.#count;
  }
}
