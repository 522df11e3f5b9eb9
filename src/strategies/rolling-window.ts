/**
 * A fixed-capacity window of the most recent numbers (a ring buffer over a
 * Float64Array: no allocation per push). `at(0)` is the oldest value kept.
 */
export class RollingWindow {
  readonly capacity: number;
  readonly #buf: Float64Array;
  #start = 0;
  #size = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`RollingWindow capacity must be an integer >= 1, got ${capacity}`);
    }
    this.capacity = capacity;
    this.#buf = new Float64Array(capacity);
  }

  get size(): number {
    return this.#size;
  }

  get full(): boolean {
    return this.#size === this.capacity;
  }

  push(value: number): void {
    if (this.#size < this.capacity) {
      this.#buf[(this.#start + this.#size) % this.capacity] = value;
      this.#size++;
    } else {
      this.#buf[this.#start] = value;
      this.#start = (this.#start + 1) % this.capacity;
    }
  }

  /** i-th value from the oldest (0) to the newest (size-1). */
  at(i: number): number {
    if (i < 0 || i >= this.#size) throw new RangeError(`index ${i} outside window of size ${this.#size}`);
    return this.#buf[(this.#start + i) % this.capacity]!;
  }

  oldest(): number {
    return this.at(0);
  }

  newest(): number {
    return this.at(this.#size - 1);
  }

  values(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.#size; i++) out.push(this.#buf[(this.#start + i) % this.capacity]!);
    return out;
  }
}
