import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { RunnerError } from '../../errors.js';

export interface JsonlLine {
  /** 1-based */
  readonly line: number;
  readonly text: string;
}

/**
 * Read a JSON-lines file lazily, in chunks of up to `chunkSize` non-blank
 * lines. Tracks bytes read so a progress bar can show how far it is.
 */
export class JsonlReader {
  readonly path: string;
  readonly size: number;
  bytesRead = 0;

  constructor(path: string) {
    this.path = path;
    try {
      this.size = statSync(path).size;
    } catch (err) {
      throw new RunnerError('INPUT_UNREADABLE', `cannot read ${path}: ${(err as Error).message}`, { cause: err, details: { path } });
    }
  }

  async *chunks(chunkSize: number): AsyncGenerator<JsonlLine[]> {
    const stream = createReadStream(this.path, { encoding: 'utf8', highWaterMark: 1 << 16 });
    const rl = createInterface({ input: stream, crlfDelay: Infinity });
    let n = 0;
    let chunk: JsonlLine[] = [];
    try {
      for await (const text of rl) {
        n++;
        // Line lengths give smooth progress; the stream's own count (it reads ahead) caps it,
        // and is exact at the end whatever the line endings.
        this.bytesRead = Math.min(stream.bytesRead, this.bytesRead + Buffer.byteLength(text) + 1);
        if (text.trim() === '') continue;
        chunk.push({ line: n, text });
        if (chunk.length >= chunkSize) {
          yield chunk;
          chunk = [];
        }
      }
      this.bytesRead = stream.bytesRead;
      if (chunk.length > 0) yield chunk;
    } finally {
      rl.close();
      stream.destroy();
    }
  }
}
