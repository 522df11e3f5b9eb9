import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

// Not a timing or memory-threshold assertion: the benchmark program must run on a tiny input and write well-formed results.
describe('bench/memory', () => {
  it('runs on a tiny input (a few strategies, a 2-s soak) and writes well-formed results', { timeout: 180_000 }, async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sr-bench-')), 'memory.json');
    const args = ['--quick', '--sizes', '2,3', '--kinds', 'trivial,builtin', '--pool', '2', '--warm-ticks', '1000', '--bare-threads', '2'];
    const soak = ['--soak-seconds', '2', '--soak-warmup', '1', '--soak-rate', '1000', '--soak-strategies', '4', '--soak-pool', '2'];
    const { stdout } = await run(process.execPath, [join(ROOT, 'dist/bench/memory.js'), ...args, ...soak, '--out', out], { cwd: ROOT });
    expect(stdout).toContain('soak:');
    const doc = JSON.parse(readFileSync(out, 'utf8')) as { benchmark: string; mode: string; machine: { node: string; cores: number }; settings: Record<string, unknown>; results: Record<string, unknown>[] };
    expect(doc.benchmark).toBe('memory');
    expect(doc.mode).toBe('quick');
    expect(doc.machine.node).toBe(process.version);
    expect(doc.settings['sizes']).toEqual([2, 3]);
    expect(doc.settings['warm_ticks']).toBe(1000);
    expect(doc.settings['method']).toBeTypeOf('object');

    const bare = doc.results.filter((r) => r['measure'] === 'bare-threads');
    expect(bare).toHaveLength(1);
    expect(bare[0]!['threads']).toBe(2);

    // Every size with one thread per strategy and with the pool, for both kinds.
    const cases = doc.results.filter((r) => r['measure'] === 'runtime');
    const keys = cases.map((r) => `${String(r['kind'])}/${String(r['strategies'])}/${String(r['pool'])}`).sort();
    expect(keys).toEqual(['builtin/2/2', 'builtin/2/per-strategy', 'builtin/3/2', 'builtin/3/per-strategy', 'trivial/2/2', 'trivial/2/per-strategy', 'trivial/3/2', 'trivial/3/per-strategy'].sort());
    for (const r of cases) {
      expect(r['threads']).toBe(r['pool'] === 'per-strategy' ? r['strategies'] : Math.min(2, r['strategies'] as number));
      // Every thread's probe answered, from inside the thread.
      expect(r['probes_answered']).toBe(r['threads']);
      for (const k of ['rss_before_mib', 'rss_after_mib', 'supervisor_rss_mib', 'per_thread_rss_mib', 'supervisor_heap_mib', 'thread_malloced_mib']) expect(r[k], k).toBeTypeOf('number');
      for (const k of ['thread_heap_used_mib', 'thread_heap_committed_mib']) {
        const s = r[k] as { mean: number; min: number; max: number };
        expect(s.mean).toBeGreaterThan(0);
        expect(s.min).toBeLessThanOrEqual(s.max);
      }
    }

    const soaks = doc.results.filter((r) => r['measure'] === 'soak');
    expect(soaks).toHaveLength(1);
    const s = soaks[0]!;
    expect(s).toMatchObject({ strategies: 4, pool: 2, threads: 2, rate: 1000, seconds: 2, ticks_offered: 2000 });
    expect(s['kept_up']).toBeTypeOf('boolean');
    for (const k of ['rss_slope', 'heap_used_slope', 'thread_heap_used_slope']) expect((s[k] as { slope_per_min: unknown }).slope_per_min, k).toBeTypeOf('number');
    const samples = s['samples'] as Record<string, number>[];
    expect(samples.length).toBeGreaterThanOrEqual(1);
    for (const x of samples) {
      for (const k of ['t', 'offered', 'dispatched', 'delivered', 'lag_ticks', 'rss_mib', 'heap_used_mib', 'queue_depth']) expect(x[k], k).toBeTypeOf('number');
      expect(x['delivered']).toBeLessThanOrEqual(x['dispatched']!);
    }
  });
});
