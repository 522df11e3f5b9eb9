import { decodeFill, inTimeOrder, type Fill } from '../../domain/fill.js';
import type { FillSource, RejectHandler } from '../../ports.js';
import { JsonlReader } from './jsonl-reader.js';

/** Fills from a JSON-lines file. Malformed lines are reported with their line numbers and skipped. */
export class FileFillSource implements FillSource {
  readonly name: string;
  readonly #reader: JsonlReader;
  readonly #onReject: RejectHandler;

  constructor(path: string, options: { onReject: RejectHandler }) {
    this.name = path;
    this.#reader = new JsonlReader(path);
    this.#onReject = options.onReject;
  }

  async *fills(): AsyncGenerator<Fill[]> {
    for await (const chunk of this.#reader.chunks(1024)) {
      const out: Fill[] = [];
      for (const { line, text } of chunk) {
        const r = decodeFill(text);
        if (r.ok) out.push(r.fill);
        else this.#onReject({ source: this.name, where: `${this.name}:${line}`, reason: r.reason, kind: 'fill' });
      }
      if (out.length > 0) yield out;
    }
  }

  /** Every fill in the file, sorted by timestamp (stable: file order among equal timestamps). */
  async all(): Promise<Fill[]> {
    const out: Fill[] = [];
    for await (const chunk of this.fills()) out.push(...chunk);
    return inTimeOrder(out);
  }

  async close(): Promise<void> {}
}
