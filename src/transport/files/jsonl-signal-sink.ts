import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Signal } from '../../domain/signal.js';
import { RunnerError } from '../../errors.js';
import type { SignalSink } from '../../ports.js';

/**
 * Signals as JSON lines, to a file or to stdout. Signal objects are built with
 * a fixed key order, so the same signals always give the same bytes.
 * A file that cannot be opened or written fails write()/close() with
 * OUTPUT_UNWRITABLE instead of crashing the process.
 */
export class JsonlSignalSink implements SignalSink {
  readonly name: string;
  readonly #out: Writable;
  readonly #owned: boolean;
  #error: RunnerError | undefined;
  #draining: Promise<void> | undefined;
  count = 0;

  constructor(path: string | undefined) {
    if (path === undefined || path === '-') {
      this.name = 'stdout';
      this.#out = process.stdout;
      this.#owned = false;
    } else {
      this.name = path;
      this.#out = createWriteStream(path, { encoding: 'utf8' });
      this.#owned = true;
      this.#out.on('error', (err) => {
        this.#error ??= new RunnerError('OUTPUT_UNWRITABLE', `cannot write signals to ${path}: ${err.message}`, { cause: err, details: { path } });
      });
    }
  }

  async write(signals: readonly Signal[]): Promise<void> {
    this.#check();
    if (signals.length === 0) return;
    let text = '';
    for (const s of signals) text += JSON.stringify(s) + '\n';
    this.count += signals.length;
    if (!this.#out.write(text)) await this.#drain();
  }

  async flush(): Promise<void> {
    this.#check();
    if (this.#out.writableNeedDrain) await this.#drain();
  }

  async close(): Promise<void> {
    if (!this.#owned) return this.flush();
    this.#check();
    await new Promise<void>((resolve, reject) => {
      const fail = (err?: Error | null): void => {
        this.#error ??= new RunnerError('OUTPUT_UNWRITABLE', `cannot write signals to ${this.name}: ${err?.message ?? 'stream failed'}`, { cause: err });
        reject(this.#error);
      };
      this.#out.once('error', fail);
      this.#out.end((err?: Error | null) => (err ? fail(err) : this.#error === undefined ? resolve() : reject(this.#error)));
    });
  }

  /**
   * Wait for 'drain'. Writers that wait at the same time (the pipeline does
   * not serialise its writes) share one wait, so the stream holds one
   * 'drain' listener whatever their number; events.once() rejects when
   * 'error' comes first and removes its listeners either way. (A race of two
   * once() calls per write left the loser's listener behind every time: a
   * large output piled up MaxListenersExceededWarning.)
   */
  async #drain(): Promise<void> {
    this.#draining ??= this.#waitForDrain().finally(() => {
      this.#draining = undefined;
    });
    await this.#draining;
    this.#check();
  }

  /** Never rejects: a failure is kept in #error for every waiter to see. */
  async #waitForDrain(): Promise<void> {
    if (this.#out.destroyed || this.#out.writableEnded) {
      this.#error ??= new RunnerError('OUTPUT_UNWRITABLE', `cannot write signals to ${this.name}: the stream is closed`, { details: { path: this.name } });
      return;
    }
    try {
      await once(this.#out, 'drain');
    } catch (err) {
      this.#error ??= new RunnerError('OUTPUT_UNWRITABLE', `cannot write signals to ${this.name}: ${(err as Error).message}`, { cause: err, details: { path: this.name } });
    }
  }

  #check(): void {
    if (this.#error !== undefined) throw this.#error;
  }
}
