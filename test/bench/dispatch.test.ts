import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

// Not a timing assertion: the benchmark program must run on a tiny input and write well-formed results.
describe('bench/dispatch', () => {
  it('runs on a tiny input and writes well-formed results', { timeout: 120_000 }, async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sr-bench-')), 'dispatch.json');
    const { stdout } = await run(process.execPath, [join(ROOT, 'dist/bench/dispatch.js'), '--quick', '--ticks', '2000', '--runs', '1', '--out', out], { cwd: ROOT });
    expect(stdout).toContain('ticks/s');
    const doc = JSON.parse(readFileSync(out, 'utf8')) as { benchmark: string; machine: { node: string; cores: number }; settings: { ticks: number }; results: Record<string, unknown>[] };
    expect(doc.benchmark).toBe('dispatch');
    expect(doc.machine.node).toBe(process.version);
    expect(doc.settings.ticks).toBe(2000);
    const measures = new Set(doc.results.map((r) => r['measure']));
    expect(measures).toEqual(new Set(['limit', 'runtime', 'transport']));
    for (const r of doc.results) {
      expect(r['ticks_per_s']).toBeGreaterThan(0);
      expect(r['runs']).toHaveLength(1);
    }
    // The runtime and the limit run the same strategies on the same ticks: the same number of signals.
    for (const count of [10, 100]) {
      const limit = doc.results.find((r) => r['strategies'] === count && r['measure'] === 'limit')!;
      for (const r of doc.results.filter((x) => x['strategies'] === count && x['measure'] === 'runtime')) expect(r['signals']).toBe(limit['signals']);
    }
  });
});
