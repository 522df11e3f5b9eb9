import { decodeTick, type Tick } from '../../domain/tick.js';
import type { RejectHandler, TickBatch, TickSource } from '../../ports.js';
import { JsonlReader } from './jsonl-reader.js';

/**
 * Ticks from a JSON-lines file, one tick per line. A malformed line is
 * reported with its line number and skipped; the file goes on.
 */
export class FileTickSource implements TickSource {
  readonly name: string;
  readonly #reader: JsonlReader;
  readonly #batchSize: number;
  readonly #onReject: RejectHandler;

  constructor(path: string, options: { batchSize?: number; onReject: RejectHandler }) {
    this.name = path;
    this.#reader = new JsonlReader(path);
    this.#batchSize = options.batchSize ?? 512;
    this.#onReject = options.onReject;
  }

  /** Bytes read so far and the file's size, for progress. */
  progress(): { done: number; total: number } {
    return { done: this.#reader.bytesRead, total: this.#reader.size };
  }

  async *batches(): AsyncGenerator<TickBatch> {
    for await (const chunk of this.#reader.chunks(this.#batchSize)) {
      const ticks: Tick[] = [];
      for (const { line, text } of chunk) {
        const r = decodeTick(text);
        if (r.ok) ticks.push(r.tick);
        else this.#onReject({ source: this.name, where: `${this.name}:${line}`, reason: r.reason, kind: 'tick' });
      }
      if (ticks.length > 0) yield { kind: 'ticks', ticks };
    }
  }

  async close(): Promise<void> {}
}
