import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A strategies file in a fresh directory, and a writer that replaces it whole (write, then rename), as an editor or a deploy does. */
export function strategiesFile(rows: unknown[]): { file: string; write: (rows: unknown[]) => void } {
  const dir = mkdtempSync(join(tmpdir(), 'sr-watch-'));
  const file = join(dir, 'strategies.json');
  const write = (next: unknown[]): void => {
    writeFileSync(`${file}.tmp`, JSON.stringify(next));
    renameSync(`${file}.tmp`, file);
  };
  write(rows);
  return { file, write };
}
