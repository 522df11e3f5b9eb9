/**
 * A bounded queue from a push-style producer (a Kafka consumer's callback)
 * to a pull-style consumer (the pipeline's `for await`). `push` resolves
 * when there is room, so a consumer that falls behind slows the fetching
 * instead of letting memory grow. `close()` ends the iteration after the
 * queued items; `fail(err)` ends it with an error.
 */
export class EventQueue<T> implements AsyncIterable<T> {
  readonly #capacity: number;
  readonly #items: T[] = [];
  #closed = false;
  #error: unknown;
  #wakeReader: (() => void) | undefined;
  readonly #writers: (() => void)[] = [];

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be an integer >= 1, got ${capacity}`);
    this.#capacity = capacity;
  }

  get length(): number {
    return this.#items.length;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Resolves once the item is queued; false when the queue was closed (the item is dropped). */
  async push(item: T): Promise<boolean> {
    while (!this.#closed && this.#items.length >= this.#capacity) {
      await new Promise<void>((resolve) => this.#writers.push(resolve));
    }
    if (this.#closed) return false;
    this.#items.push(item);
    this.#wake();
    return true;
  }

  close(): void {
    this.#closed = true;
    this.#wake();
    for (const w of this.#writers.splice(0)) w();
  }

  fail(err: unknown): void {
    this.#error ??= err;
    this.close();
  }

  #wake(): void {
    const r = this.#wakeReader;
    this.#wakeReader = undefined;
    r?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      if (this.#items.length > 0) {
        const item = this.#items.shift()!;
        this.#writers.shift()?.();
        yield item;
        continue;
      }
      if (this.#error !== undefined) throw this.#error;
      if (this.#closed) return;
      await new Promise<void>((resolve) => (this.#wakeReader = resolve));
    }
  }
}
