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

// Not a timing assertion: the benchmark program must run its three parts on a tiny deployment against the test broker and write well-formed results.
describe('bench/scale-out', () => {
  it('runs failover, throughput and cost on a tiny deployment and writes well-formed results', { timeout: 90_000 }, async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sr-bench-')), 'scale-out.json');
    const args = [
      join(ROOT, 'dist/bench/scale-out.js'),
      '--quick',
      '--brokers',
      kafkaBrokers().join(','),
      // 6000 ms: the broker's smallest session timeout (group.min.session.timeout.ms)
      ...['--runs', '1', '--session-timeouts', '6000', '--settle-ms', '300', '--rate', '500', '--shards', '8', '--strategies', '10', '--partitions', '2'],
      ...['--throughput-ticks', '2000', '--layouts', '1x1,2x1', '--heavy-strategies', '8', '--heavy-work', '200', '--cost-seconds', '2', '--idle-seconds', '1', '--out', out],
    ];
    const { stdout } = await run(process.execPath, args, { cwd: ROOT, timeout: 85_000 });
    expect(stdout).toContain('kill-sigkill');
    const doc = JSON.parse(readFileSync(out, 'utf8')) as { benchmark: string; mode: string; machine: { node: string }; settings: Record<string, unknown>; results: Record<string, unknown>[] };
    expect(doc).toMatchObject({ benchmark: 'scale-out', mode: 'quick', machine: { node: process.version } });
    expect(doc.settings).toMatchObject({ shards: 8, session_timeouts_ms: [6000], throughput_ticks: 2000, layouts: ['1x1', '2x1'] });

    const failover = doc.results.filter((r) => r['measure'] === 'failover');
    // One cycle: two joins, one SIGTERM, one SIGKILL.
    expect(failover.map((r) => [r['event'], (r['runs'] as number[]).length])).toEqual([
      ['join', 2],
      ['leave-sigterm', 1],
      ['kill-sigkill', 1],
    ]);
    for (const r of failover) {
      expect(r['session_timeout_ms']).toBe(6000);
      expect(r['median_ms']).toBeGreaterThan(0);
      expect(r['max_ms']).toBeGreaterThanOrEqual(r['median_ms'] as number);
      for (const x of r['samples'] as Record<string, unknown>[]) expect((x['held_after'] as number[]).reduce((a, b) => a + b, 0)).toBe(8);
    }

    const throughput = doc.results.filter((r) => r['measure'] === 'throughput');
    expect(throughput.map((r) => [r['runners'], r['pool']])).toEqual([
      [1, 1],
      [2, 1],
    ]);
    for (const r of throughput) {
      expect(r['ticks']).toBe(2000);
      expect(r['ticks_per_s']).toBeGreaterThan(0);
      expect(r['runs']).toHaveLength(1);
    }

    const cost = doc.results.filter((r) => r['measure'] === 'cost');
    expect(cost.map((r) => [r['role'], r['shards_held']])).toEqual([
      ['holds-everything', 1],
      ['standby-holds-nothing', 0],
      ['other-deployment-no-strategies', 1],
    ]);
    for (const r of cost) {
      expect(r['ticks_read']).toBeGreaterThan(0);
      expect(r['cpu_us_per_tick']).toBeGreaterThan(0);
    }
    // The standby decodes and routes nothing: every tick it reads is unowned.
    expect(cost[1]!['routed_ticks']).toBe(0);
  });
});
