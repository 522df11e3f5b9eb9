import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

interface Row {
  case: string;
  indicator: string;
  impl: 'sdk' | 'library' | 'none';
  updates: number;
  ns_per_update: number;
  runs: number[];
  last: number;
}

// Not a timing assertion: the benchmark program must run on a tiny input and write well-formed results.
describe('bench/indicators', () => {
  it('runs every case on a tiny input and writes well-formed results', { timeout: 120_000 }, async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sr-bench-')), 'indicators.json');
    const { stdout } = await run(process.execPath, [join(ROOT, 'dist/bench/indicators.js'), '--quick', '--updates', '3000', '--runs', '2', '--warmup', '3000', '--out', out], { cwd: ROOT });
    expect(stdout).toContain('ns/update');
    const doc = JSON.parse(readFileSync(out, 'utf8')) as { benchmark: string; mode: string; machine: { node: string }; settings: Record<string, unknown>; results: Row[]; overhead: { indicator: string }[] };
    expect(doc.benchmark).toBe('indicators');
    expect(doc.mode).toBe('quick');
    expect(doc.machine.node).toBe(process.version);
    expect(doc.settings).toMatchObject({ updates: 3000, runs: 2, warmup: 3000 });
    expect(doc.settings['library']).toMatch(/^trading-signals \d+\.\d+\.\d+$/);
    for (const r of doc.results) {
      expect(r.ns_per_update, r.case).toBeGreaterThan(0);
      expect(r.runs, r.case).toHaveLength(2);
      expect(r.updates).toBe(3000);
    }
    // Every indicator of the SDK, each beside the library class it wraps (VWAP: the library's candle VWAP).
    const indicators = ['SMA(20)', 'SMA(200)', 'EMA(20)', 'RSI(14)', 'MACD(12,26,9)', 'BollingerBands(20,2)', 'ATR(14)', 'VWAP', 'RSI(14), 1,000 instruments'];
    for (const name of indicators) {
      const sdk = doc.results.find((r) => r.indicator === name && r.impl === 'sdk');
      const lib = doc.results.find((r) => r.indicator === name && r.impl === 'library');
      expect(sdk, name).toBeDefined();
      expect(lib, name).toBeDefined();
      // The same inputs give the same value through the wrapper as through the library
      // (VWAP: the library's typical price (p+p+p)/3 can be an ulp off p).
      if (name === 'VWAP') expect(sdk!.last).toBeCloseTo(lib!.last, 9);
      else expect(sdk!.last, name).toBe(lib!.last);
      // (3,000 updates over 1,000 instruments leave the instrument read at the end unready: 0 on both sides)
      if (!name.includes('instruments')) expect(sdk!.last, name).not.toBe(0);
    }
    expect(doc.overhead.map((o) => o.indicator).sort()).toEqual([...indicators].sort());
  });
});
