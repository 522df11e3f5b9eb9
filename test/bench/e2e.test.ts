import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { kafkaBrokers } from '../helpers/infra.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

// Not a timing assertion: the benchmark program must run on a tiny input against the test broker and write well-formed results.
describe('bench/e2e', () => {
  it('runs on a tiny input and writes well-formed results', { timeout: 90_000 }, async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sr-bench-')), 'e2e.json');
    const args = [join(ROOT, 'dist/bench/e2e.js'), '--quick', '--brokers', kafkaBrokers().join(','), '--ticks', '2000', '--runs', '1', '--seeds', '2', '--seed-ticks', '1000', '--strategies', '10', '--partitions', '2', '--out', out];
    const { stdout } = await run(process.execPath, args, { cwd: ROOT, timeout: 80_000 });
    expect(stdout).toContain('ticks/s');
    const doc = JSON.parse(readFileSync(out, 'utf8')) as { benchmark: string; machine: { node: string; cores: number }; settings: Record<string, unknown>; results: Record<string, unknown>[] };
    expect(doc.benchmark).toBe('e2e');
    expect(doc.machine.node).toBe(process.version);
    expect(doc.settings['ticks']).toBe(2000);
    expect(doc.settings['seed_ticks']).toBe(1000);
    expect(doc.settings['kafka']).toBeTypeOf('object');
    expect(doc.results.map((r) => r['measure'])).toEqual(['consume-only', 'consume-lowlevel', 'consume-lowlevel-parse', 'runner', 'seeds']);
    for (const r of doc.results) {
      expect(r['ticks_per_s']).toBeGreaterThan(0);
      expect(r['runs']).toHaveLength(1);
      expect(r['ratio_to_consume_only']).toBeGreaterThan(0);
    }
    const runner = doc.results.find((r) => r['measure'] === 'runner')!;
    expect(runner).toMatchObject({ strategies: 10, pool: 2, ticks: 2000 });
    expect(runner['gc_share']).toBeGreaterThanOrEqual(0);
    expect(runner['gc_share']).toBeLessThan(1);
    expect(runner['heap_max_mb']).toBeGreaterThanOrEqual(0);
    expect(doc.results.find((r) => r['measure'] === 'seeds')).toMatchObject({ strategies: 2, ticks: 1000 });
  });
});
