import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

/**
 * A temporary directory for the test file (made before all tests, removed
 * after), and a writer of files in it. `lines` become newline-terminated lines.
 */
export function useTempDir(prefix: string): { dir: () => string; file: (name: string, content: string | readonly string[]) => string } {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir: () => dir,
    file: (name, content) => {
      const p = join(dir, name);
      writeFileSync(p, typeof content === 'string' ? content : content.join('\n') + '\n');
      return p;
    },
  };
}
