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
describe('bench/produce', () => {
  it('runs every measure on a tiny input and writes well-formed results', { timeout: 90_000 }, async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sr-bench-')), 'produce.json');
    const args = [join(ROOT, 'dist/bench/produce.js'), '--brokers', kafkaBrokers().join(','), '--signals', '2000', '--runs', '1', '--out', out];
    const { stdout } = await run(process.execPath, args, { cwd: ROOT, timeout: 80_000 });
    expect(stdout).toContain('signals/s');
    const doc = JSON.parse(readFileSync(out, 'utf8')) as { benchmark: string; signals: number; machine: { node: string }; summary: Record<string, unknown>[] };
    expect(doc).toMatchObject({ benchmark: 'produce', signals: 2000, machine: { node: process.version } });
    expect(doc.summary.map((r) => r['measure'])).toEqual(['kafkajs-send-full-headers', 'raw-produce-full-headers', 'sink-full-headers', 'sink-id-header', 'sink-no-headers', 'sink-full-headers-poll5', 'sink-no-headers-poll5']);
    for (const r of doc.summary) {
      expect(r['median_signals_per_s']).toBeGreaterThan(0);
      expect(r['rates']).toHaveLength(1);
    }
  });
});
