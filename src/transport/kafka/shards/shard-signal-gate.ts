import type { Signal } from '../../../domain/signal.js';
import type { SignalSink } from '../../../ports.js';
import type { ShardBook } from './shard-book.js';

/**
 * The sink of a sharded runner: a signal goes out only while its strategy's
 * shard is held here and may emit (acquiring, active, releasing). Once a
 * shard is dropped (its assignment was lost) or released, what its strategies
 * still produce is counted and never published: its next owner emits it.
 * Counts each shard's signals.
 */
export class ShardSignalGate implements SignalSink {
  readonly name: string;
  readonly #inner: SignalSink;
  readonly #book: ShardBook;
  /** counts the signals of shards not held (or no longer emitting) here, never published */
  readonly #counters: { droppedSignals: number };

  constructor(inner: SignalSink, book: ShardBook, counters: { droppedSignals: number }) {
    this.#inner = inner;
    this.#book = book;
    this.#counters = counters;
    this.name = inner.name;
  }

  write(signals: readonly Signal[], round?: number): Promise<void> {
    const book = this.#book;
    let out: Signal[] | undefined;
    for (let i = 0; i < signals.length; i++) {
      const s = signals[i]!;
      const shard = book.get(book.index.of(s.strategy_id));
      if (shard !== undefined && shard.emits) {
        shard.signals++;
        out?.push(s);
        continue;
      }
      // The first dropped signal: copy what went before it, then keep the rest selectively.
      out ??= signals.slice(0, i);
      this.#counters.droppedSignals++;
      if (shard !== undefined) shard.droppedSignals++;
    }
    return this.#inner.write(out ?? signals, round);
  }

  roundSettled(round: number): void {
    this.#inner.roundSettled?.(round);
  }

  flush(): Promise<void> {
    return this.#inner.flush();
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}
