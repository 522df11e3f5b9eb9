import { describe, expect, it } from 'vitest';
import { dispatchCharts, latencyCharts, memoryCharts, type ResultFile } from '../../../bench/chart.js';
import { compact, toSvg, wantsLog } from '../../../bench/lib/charts/vega.js';

const machine = { node: 'v20.0.0-fixture', cores: 2, cpu: 'fixture cpu', memory_gib: 4 };
const result = (benchmark: string, settings: ResultFile['settings'], results: ResultFile['results'], at?: string): ResultFile => ({ benchmark, mode: 'full', machine, settings, results, ...(at === undefined ? {} : { at }) });

const dispatch = result(
  'dispatch',
  { ticks: 5000, runs: 2, instruments: 100, instruments_per_strategy: 10 },
  [
    { kind: 'trivial', strategies: 10, fanout: 1, measure: 'limit', pool: 'none', ticks_per_s: 3_000_000 },
    { kind: 'trivial', strategies: 10, fanout: 1, measure: 'runtime', pool: 2, ticks_per_s: 1_200_000 },
    { kind: 'trivial', strategies: 10, fanout: 1, measure: 'transport', pool: 2, ticks_per_s: 1_600_000 },
    { kind: 'trivial', strategies: 100, fanout: 10, measure: 'runtime', pool: 'per-strategy', ticks_per_s: 400_000 },
  ],
  '2026-01-02T03:04:05.000Z',
);

const memory = result('memory', { warm_ticks: 500 }, [
  {
    measure: 'soak', kind: 'trivial', strategies: 5, pool: 2, rate: 100, seconds: 4, warmup_seconds: 2, kept_up: false, max_lag_ms_after_warmup: 7,
    samples: [0, 1, 2, 3, 4].map((t) => ({ t, rss_mib: 90 + t, heap_used_mib: 10, thread_heap_used_mib: 12, lag_ticks: 3 * t, queue_depth: t % 2 })),
  },
]);

const latency = result('latency', { probe_every: 1 }, [
  { offered_rate: 1000, kept_up: true, in_service: { p50_ms: 0.2, p99_ms: 3 }, produced_to_acked: { p50_ms: 4, p99_ms: 30 } },
  { offered_rate: 9000, kept_up: false, in_service: { p50_ms: 50, p99_ms: 900 }, produced_to_acked: { p50_ms: 80, p99_ms: 2000 } },
]);

/** The strings of every `<text>` in the SVG, its `<tspan>` lines joined by a space. */
function texts(svg: string): string[] {
  return [...svg.matchAll(/<text\b[^>]*>(.*?)<\/text>/gs)].map((m) => m[1]!.replace(/<tspan\b[^>]*>(.*?)<\/tspan>/g, '$1 ').replace(/&lt;/g, '<').replace(/&amp;/g, '&').trim());
}

/** Well-formed enough to be drawn: one root, every opened group and text closed, nothing but entities after an ampersand. */
function checkSvg(svg: string): void {
  expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  for (const tag of ['svg', 'g', 'text']) expect(svg.match(new RegExp(`<${tag}\\b`, 'g'))?.length, tag).toBe(svg.match(new RegExp(`</${tag}>`, 'g'))?.length);
  expect(svg).not.toMatch(/&(?!(amp|lt|gt|quot|#\d+);)/);
  const [, w, h] = /^<svg[^>]* width="(\d+)" height="(\d+)"/.exec(svg) ?? [];
  expect(Number(w)).toBeGreaterThan(300);
  expect(Number(h)).toBeGreaterThan(200);
}

/** Vega-Lite encodings are plain objects here: read one channel's explicit scale domain from the layers. */
function domains(spec: object, channel: string): unknown[][] {
  const found: unknown[][] = [];
  JSON.stringify(spec, (key, value: unknown) => {
    const d = (value as { [c: string]: { scale?: { domain?: unknown[] } } } | null)?.[channel]?.scale?.domain;
    if (key === 'encoding' && Array.isArray(d)) found.push(d);
    return value;
  });
  return found;
}

describe('bench/chart (Vega-Lite)', () => {
  it('dispatch: one bar per configuration, the transport as a marker, the 1 M target as a rule', async () => {
    const charts = dispatchCharts(dispatch);
    expect(Object.keys(charts)).toEqual(['dispatch-trivial.svg']);
    const spec = charts['dispatch-trivial.svg']!;
    expect(domains(spec, 'color')[0]).toEqual(['limit (one thread, no workers)', 'pool 2', 'one thread per strategy']);
    expect(domains(spec, 'stroke')[0]).toEqual(['transport alone (same pool)', 'target: 1 M ticks/s (100 strategies, pool 2)']);
    const svg = await toSvg(spec);
    checkSvg(svg);
    const t = texts(svg);
    expect(t).toContain('In-process dispatch, trivial strategy (the runtime\u2019s cost)');
    expect(t).toContain('ticks/s');
    expect(t).toContain('10 strategies fan-out 1');
    expect(t).toContain('1.2M');
    expect(t).toContain('Machine: 2 cores (fixture cpu), 4 GiB, Node v20.0.0-fixture · dispatch full · 2026-01-02');
  });

  it('memory soak: a line per series, the lag chart dashes the queue depth and marks one second of ticks', async () => {
    const charts = memoryCharts(memory);
    expect(Object.keys(charts).sort()).toEqual(['memory-soak-lag.svg', 'memory-soak.svg']);
    expect(domains(charts['memory-soak-lag.svg']!, 'strokeDash')[0]).toEqual(['lag (ticks)', 'batches queued to the threads', 'one second of ticks']);
    const t = texts(await toSvg(charts['memory-soak.svg']!));
    for (const s of ['process RSS', 'main thread heap used', 'threads\u2019 heap used (sum, heartbeats)', 'end of warm-up', 'seconds', 'MiB']) expect(t).toContain(s);
    const lag = await toSvg(charts['memory-soak-lag.svg']!);
    checkSvg(lag);
    expect(texts(lag).some((s) => s.includes('kept up: no, max 7 ms'))).toBe(true);
  });

  it('latency: log scale over whole decades when the values span them, targets named in the legend', async () => {
    const spec = latencyCharts(latency)['latency.svg']!;
    const svg = await toSvg(spec);
    checkSvg(svg);
    const t = texts(svg);
    expect(t).toContain('latency (ms) (log scale)');
    expect(t).toContain('Latency percentiles at fixed offered rates (from the scheduled send time), a signal per tick');
    for (const s of ['p50', 'p99', '9,000 ticks/s (fell behind) produced → acked', 'target: in-service p99 ≤ 1 ms', '0.1', '1', '10', '100', '1,000', '10,000']) expect(t).toContain(s);
  });

  it('log scale only when the values span more than a decade and a half', () => {
    expect(wantsLog([1, 20], 'auto')).toBe(false);
    expect(wantsLog([1, 31], 'auto')).toBe(true);
    expect(wantsLog([0, 1000], 'auto')).toBe(false);
    expect(wantsLog([1, 1000], false)).toBe(false);
    expect([compact(1_234_567), compact(12_345), compact(0.5), compact(0)]).toEqual(['1.23M', '12.3k', '0.5', '0']);
  });
});
