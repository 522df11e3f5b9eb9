import type { Fill } from '../../domain/fill.js';
import type { Signal } from '../../domain/signal.js';
import type { Tick } from '../../domain/tick.js';
import { parseStrategyConfigs, type ParsedConfigs } from '../../config/strategy-config.js';
import type { ConfigSource, FillSource, SignalSink, TickBatch, TickSource } from '../../ports.js';

/** Ticks held in memory, yielded in batches (tests, benchmarks, embedding). */
export class MemoryTickSource implements TickSource {
  readonly name = 'memory';
  readonly #ticks: readonly Tick[];
  readonly #batchSize: number;

  constructor(ticks: readonly Tick[], batchSize = 512) {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be an integer >= 1, got ${batchSize}`);
    this.#ticks = ticks;
    this.#batchSize = batchSize;
  }

  async *batches(): AsyncGenerator<TickBatch> {
    for (let i = 0; i < this.#ticks.length; i += this.#batchSize) {
      yield { kind: 'ticks', ticks: this.#ticks.slice(i, i + this.#batchSize) };
    }
  }

  async close(): Promise<void> {}
}

export class MemoryFillSource implements FillSource {
  readonly name = 'memory';
  readonly #fills: readonly Fill[];

  constructor(fills: readonly Fill[]) {
    this.#fills = fills;
  }

  async *fills(): AsyncGenerator<Fill[]> {
    if (this.#fills.length > 0) yield [...this.#fills];
  }

  async close(): Promise<void> {}
}

/** Keeps every signal it is given, in order. */
export class MemorySignalSink implements SignalSink {
  readonly name = 'memory';
  readonly signals: Signal[] = [];

  async write(signals: readonly Signal[]): Promise<void> {
    for (const s of signals) this.signals.push(s);
  }

  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

/** Configurations given as objects (validated like any other source). */
export class MemoryConfigSource implements ConfigSource {
  readonly name = 'memory';
  readonly #entries: readonly unknown[];

  constructor(entries: readonly unknown[]) {
    this.#entries = entries;
  }

  async load(): Promise<ParsedConfigs> {
    return parseStrategyConfigs(this.#entries, this.name);
  }

  async close(): Promise<void> {}
}
