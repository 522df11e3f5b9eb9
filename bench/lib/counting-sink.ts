import type { Signal } from '../../src/domain/signal.js';
import type { SignalSink } from '../../src/ports.js';

/** A sink that only counts: the in-process benchmarks measure the runtime, not a destination. */
export class CountingSink implements SignalSink {
  readonly name = 'count';
  count = 0;
  async write(s: readonly Signal[]): Promise<void> {
    this.count += s.length;
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}
