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

// Not a timing assertion: the benchmark program must run at a low rate against the test broker and write well-formed results.
describe('bench/latency', () => {
  it('runs at a low rate and writes well-formed results', { timeout: 90_000 }, async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sr-bench-')), 'latency.json');
    const args = [join(ROOT, 'dist/bench/latency.js'), '--quick', '--brokers', kafkaBrokers().join(','), '--rates', '200', '--duration', '2', '--warmup', '0.5', '--strategies', '10', '--partitions', '2', '--out', out];
    const { stdout } = await run(process.execPath, args, { cwd: ROOT, timeout: 80_000 });
    expect(stdout).toContain('produced→acked');
    const doc = JSON.parse(readFileSync(out, 'utf8')) as { benchmark: string; machine: { node: string }; settings: Record<string, unknown>; results: Record<string, unknown>[] };
    expect(doc.benchmark).toBe('latency');
    expect(doc.machine.node).toBe(process.version);
    expect(doc.settings['rates']).toEqual([200]);
    // --quick runs the tuned profile only; its Kafka settings are recorded.
    const profiles = doc.settings['profiles'] as Record<string, { runner_kafka: { producer: { lingerMs: number } }; generator_producer: Record<string, unknown> }>;
    expect(Object.keys(profiles)).toEqual(['tuned']);
    expect(profiles['tuned']!.runner_kafka.producer.lingerMs).toBe(2);
    expect(profiles['tuned']!.generator_producer['linger.ms']).toBe(1);
    expect(doc.results).toHaveLength(1);
    const r = doc.results[0]!;
    expect(r['profile']).toBe('tuned');
    expect(r['offered_rate']).toBe(200);
    expect(r['ticks']).toBe(400);
    // One probe signal per tick, and a sample for each recorded one (no timing asserted).
    expect(r['acked']).toBe(400);
    expect(r['expected_signals']).toBe(400);
    for (const m of ['produced_to_acked', 'in_service', 'to_js']) {
      const h = r[m] as Record<string, number>;
      expect(h['count']).toBe(r['recorded']);
      for (const k of ['p50_ms', 'p90_ms', 'p99_ms', 'p999_ms', 'max_ms']) expect(h[k]).toBeGreaterThanOrEqual(0);
      expect(h['p50_ms']).toBeLessThanOrEqual(h['max_ms']!);
    }
  });
});
