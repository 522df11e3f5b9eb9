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

// Not a timing assertion: the benchmark program must run both deliveries at a low rate on a small deployment against the test broker and write well-formed results.
describe('bench/exactly-once', () => {
  it('runs at-least-once and exactly-once at a low rate and writes well-formed results', { timeout: 90_000 }, async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sr-bench-')), 'exactly-once.json');
    const args = [
      join(ROOT, 'dist/bench/exactly-once.js'),
      '--quick',
      '--brokers',
      kafkaBrokers().join(','),
      ...['--configs', 'at-least-once,exactly-once:50', '--rates', '500', '--runs', '1', '--duration', '2', '--warmup', '0.5'],
      ...['--shards', '8', '--strategies', '16', '--every', '5', '--partitions', '2', '--out', out],
    ];
    const { stdout } = await run(process.execPath, args, { cwd: ROOT, timeout: 85_000 });
    expect(stdout).toContain('read_committed');
    const doc = JSON.parse(readFileSync(out, 'utf8')) as { benchmark: string; mode: string; machine: { node: string }; settings: Record<string, unknown>; results: Record<string, unknown>[]; deployments: Record<string, unknown>[] };
    expect(doc).toMatchObject({ benchmark: 'exactly-once', mode: 'quick', machine: { node: process.version } });
    expect(doc.settings).toMatchObject({ rates: [500], runs: 1, shards: 8, strategies: 16 });

    expect(doc.results.map((r) => [r['config'], r['delivery'], r['commit_interval_ms'], r['offered_rate'], r['runs']])).toEqual([
      ['at-least-once', 'at-least-once', null, 500, 1],
      ['exactly-once:50', 'exactly-once', 50, 500, 1],
    ]);
    for (const r of doc.results) {
      for (const k of ['p50_ms', 'p99_ms', 'p999_ms', 'max_ms', 'consumed_ticks_per_s', 'cpu_us_per_tick']) {
        const st = r[k] as { median: number; min: number; max: number };
        expect(st.min).toBeLessThanOrEqual(st.median);
        expect(st.median).toBeLessThanOrEqual(st.max);
      }
      const [x] = r['samples'] as Record<string, unknown>[];
      expect(x!['ticks']).toBe(1250);
      // Every tick read and every signal the runner emitted visible to read_committed, once (no timing asserted).
      expect(x!['drained']).toBe(true);
      expect(x!['emitted_signals']).toBeGreaterThan(0);
      expect(x!['visible_signals']).toBe(x!['emitted_signals']);
      expect(x!['missing_signals']).toBe(0);
      expect(x!['duplicate_signals']).toBe(0);
      expect((x!['latency'] as { count: number }).count).toBeGreaterThan(0);
      expect(x!['cpu_us_per_tick']).toBeGreaterThan(0);
    }
    // Only exactly-once commits transactions, and /status shows them.
    expect(doc.results[0]!['commits_per_s']).toBeNull();
    expect((doc.results[1]!['commits_per_s'] as { median: number }).median).toBeGreaterThan(0);
    expect(doc.deployments.map((d) => [d['config'], (d['transactions'] as { committed: number } | null)?.committed ?? null])).toEqual([
      ['at-least-once', null],
      ['exactly-once:50', expect.any(Number)],
    ]);
    expect((doc.deployments[1]!['transactions'] as { committed: number; aborted: number }).committed).toBeGreaterThan(0);
  });
});
