import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RESULTS = join(ROOT, 'bench/results');
const run = promisify(execFile);

const machine = { node: process.version, v8: process.versions.v8, platform: 'test', cpu: 'test cpu', cores: 2, memory_gib: 1 };

/** Tiny stand-ins for result files the repository does not hold yet (the chart must not depend on which exist). */
const FALLBACK: Record<string, unknown> = {
  'dispatch-full.json': {
    benchmark: 'dispatch', mode: 'full', machine, settings: { ticks: 1000, runs: 1, batch: 512, instruments: 1000, instruments_per_strategy: 50 },
    results: [
      { strategies: 10, kind: 'trivial', pool: 'none', measure: 'limit', ticks: 1000, signals: 1, fanout: 0.5, runs: [2_000_000], ticks_per_s: 2_000_000 },
      { strategies: 10, kind: 'trivial', pool: 2, measure: 'runtime', ticks: 1000, signals: 1, fanout: 0.5, runs: [800_000], ticks_per_s: 800_000 },
      { strategies: 10, kind: 'trivial', pool: 2, measure: 'transport', ticks: 1000, signals: 0, fanout: 0.5, runs: [1_500_000], ticks_per_s: 1_500_000 },
    ],
  },
  'memory-full.json': {
    benchmark: 'memory', mode: 'full', machine, settings: { warm_ticks: 1000 },
    results: [
      { measure: 'bare-threads', threads: 2, rss_before_mib: 60, rss_after_mib: 76, per_thread_rss_mib: 8, thread_heap_used_mib: { mean: 3, min: 3, max: 3 }, thread_heap_committed_mib: { mean: 6, min: 6, max: 6 } },
      { measure: 'runtime', kind: 'trivial', strategies: 10, pool: 4, threads: 4, rss_before_mib: 70, rss_after_mib: 200, supervisor_rss_mib: 98, per_thread_rss_mib: 25, thread_heap_used_mib: { mean: 8, min: 8, max: 8 }, thread_heap_committed_mib: { mean: 20, min: 19, max: 21 } },
      { measure: 'soak', kind: 'trivial', strategies: 10, pool: 4, rate: 1000, seconds: 3, warmup_seconds: 1, kept_up: true, max_lag_ms_after_warmup: 3, rss_slope: { slope_per_min: 1, r2: 0.5 }, heap_used_slope: { slope_per_min: 0, r2: 0 }, thread_heap_used_slope: { slope_per_min: 0, r2: 0 },
        samples: [1, 2, 3].map((t) => ({ t, offered: t * 1000, dispatched: t * 1000, delivered: t * 1000 - 5, lag_ticks: 5, rss_mib: 100 + t, heap_used_mib: 20, thread_heap_used_mib: 30, queue_depth: 1 })) },
    ],
  },
};

/** The first tag that does not nest properly, or undefined when every element is closed in order. */
function unbalanced(xml: string): string | undefined {
  const stack: string[] = [];
  for (const m of xml.matchAll(/<(\/?)([a-zA-Z][\w-]*)[^>]*?(\/?)>/g)) {
    const [tag, closing, name, selfClosing] = m;
    if (selfClosing === '/') continue;
    if (closing === '') stack.push(name!);
    else if (stack.pop() !== name) return tag;
  }
  return stack.length === 0 ? undefined : `<${stack.at(-1)!}> not closed`;
}

// Not about the numbers: the chart program must turn the result files into well-formed SVG.
describe('bench/chart', () => {
  it('writes one well-formed SVG per chart from the result files, and skips missing files', { timeout: 60_000 }, async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'sr-chart-'));
    const results = join(tmp, 'results');
    const out = join(tmp, 'img');
    mkdirSync(results);
    for (const name of ['dispatch-full.json', 'memory-full.json', 'e2e-full.json', 'latency-full.json']) {
      if (existsSync(join(RESULTS, name))) copyFileSync(join(RESULTS, name), join(results, name));
      else if (FALLBACK[name] !== undefined) writeFileSync(join(results, name), JSON.stringify(FALLBACK[name]));
    }
    const { stdout } = await run(process.execPath, [join(ROOT, 'dist/bench/chart.js'), '--results', results, '--out', out], { cwd: ROOT });
    expect(stdout).toMatch(/\d+ charts? in /);
    const files = readdirSync(out).sort();
    expect(files).toEqual(expect.arrayContaining(['dispatch-trivial.svg', 'memory-per-thread.svg', 'memory-process.svg', 'memory-soak.svg', 'memory-soak-lag.svg']));
    if (existsSync(join(results, 'e2e-full.json'))) expect(files).toContain('e2e.svg');
    else expect(stdout).toContain('skip:');
    for (const f of files) {
      const svg = readFileSync(join(out, f), 'utf8');
      expect(svg.startsWith('<svg'), f).toBe(true);
      expect(svg.trimEnd().endsWith('</svg>'), f).toBe(true);
      expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
      // XML-ish: elements nest and close properly, no raw ampersand in text.
      expect(unbalanced(svg), f).toBeUndefined();
      expect(svg).not.toMatch(/&(?!(amp|lt|gt|quot|#\d+);)/);
      expect(svg, f).toContain('Machine: ');
      expect(svg, f).toContain(`Node ${(JSON.parse(readFileSync(join(results, f.startsWith('memory') ? 'memory-full.json' : f.startsWith('dispatch') ? 'dispatch-full.json' : `${f.replace('.svg', '')}-full.json`), 'utf8')) as { machine: { node: string } }).machine.node}`);
    }
    const dispatch = readFileSync(join(out, 'dispatch-trivial.svg'), 'utf8');
    for (const label of ['limit (one thread, no workers)', 'pool 2', 'transport alone (same pool)', 'ticks/s']) expect(dispatch).toContain(label);
    const perThread = readFileSync(join(out, 'memory-per-thread.svg'), 'utf8');
    for (const label of ['RSS per thread', 'V8 heap committed', 'V8 heap used', 'MiB per thread']) expect(perThread).toContain(label);
    const soak = readFileSync(join(out, 'memory-soak.svg'), 'utf8');
    for (const label of ['process RSS', 'main thread heap used', 'seconds']) expect(soak).toContain(label);
  });
});
