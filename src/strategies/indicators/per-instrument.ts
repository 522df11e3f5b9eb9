/**
 * State per instrument, made on first use: the usual shape of a strategy that
 * trades several instruments, whose ticks (or bars) arrive interleaved.
 *
 *   const rsi = perInstrument(() => new RSI(14));
 *   // onTick
 *   const v = rsi.get(tick.instrument_token).update(tick.last_price);
 *   // onBar
 *   rsi.get(bar.instrument_token).update(bar.close);
 *
 * The factory gets the instrument token, for settings that differ per
 * instrument, and may return any object: one indicator, or a record of
 * several (`perInstrument(() => ({ fast: new EMA(12), slow: new EMA(26) }))`).
 * A Map lookup per `get`: about 10 ns with 1,000 instruments
 * (docs/benchmarks.md#indicators).
 */
export class PerInstrument<T extends object> implements Iterable<[number, T]> {
  readonly #create: (instrument: number) => T;
  readonly #items = new Map<number, T>();

  constructor(create: (instrument: number) => T) {
    this.#create = create;
  }

  /** The instrument's state, made by the factory the first time. */
  get(instrument: number): T {
    let item = this.#items.get(instrument);
    if (item === undefined) {
      item = this.#create(instrument);
      this.#items.set(instrument, item);
    }
    return item;
  }

  /** The instrument's state if it has been made, without making it. */
  peek(instrument: number): T | undefined {
    return this.#items.get(instrument);
  }

  has(instrument: number): boolean {
    return this.#items.has(instrument);
  }

  /** Forget an instrument: its next `get` starts from a fresh factory call. */
  delete(instrument: number): boolean {
    return this.#items.delete(instrument);
  }

  /** Forget every instrument. */
  clear(): void {
    this.#items.clear();
  }

  get size(): number {
    return this.#items.size;
  }

  keys(): IterableIterator<number> {
    return this.#items.keys();
  }

  values(): IterableIterator<T> {
    return this.#items.values();
  }

  entries(): IterableIterator<[number, T]> {
    return this.#items.entries();
  }

  [Symbol.iterator](): IterableIterator<[number, T]> {
    return this.#items.entries();
  }
}

/** `new PerInstrument(create)`: one `T` per instrument token, made on first use. */
export function perInstrument<T extends object>(create: (instrument: number) => T): PerInstrument<T> {
  return new PerInstrument(create);
}
