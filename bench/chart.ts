/**
 * Charts (Vega-Lite specifications, drawn to SVG by Vega without a browser:
 * bench/lib/charts/vega.ts) from the benchmark result
 * files in bench/results/ to docs/img/ (full mode; quick mode writes to
 * bench/results/tmp/img-quick/, git-ignored). A result file that is not
 * there is skipped with a message, so the script can be re-run as results arrive.
 *   node dist/bench/chart.js [--results DIR] [--out DIR] [--mode full|quick]
 * Charts: dispatch-trivial.svg, dispatch-builtin.svg (dispatch-<mode>.json);
 * memory-per-thread.svg, memory-process.svg, memory-soak.svg,
 * memory-soak-lag.svg (memory-<mode>.json); e2e.svg (e2e-<mode>.json);
 * latency.svg (latency-<mode>.json), latency-probe10.svg (latency-<mode>-probe10.json).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { TopLevelSpec } from 'vega-lite';
import { barChart, compact, GREY, lineChart, PALETTE, toSvg, type BarGroup, type BarSeries } from './lib/charts/vega.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');

type Row = Record<string, unknown>;
export type Charts = Record<string, TopLevelSpec>;
export interface ResultFile {
  benchmark: string;
  mode?: string;
  at?: string;
  machine: Record<string, unknown>;
  settings: Record<string, unknown>;
  results: Row[];
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string => (v === null || v === undefined ? '-' : String(v));
const thousands = (v: number): string => v.toLocaleString('en-US');

function caption(doc: ResultFile, extra = ''): string {
  const m = doc.machine;
  const parts = [`${str(m['cores'])} cores (${str(m['cpu'])}), ${str(m['memory_gib'])} GiB, Node ${str(m['node'])}`, `${doc.benchmark} ${doc.mode ?? ''}`.trim()];
  if (doc.at !== undefined) parts.push(doc.at.slice(0, 10));
  if (extra !== '') parts.push(extra);
  return `Machine: ${parts.join(' · ')}`;
}

export function load(dir: string, name: string): ResultFile | undefined {
  const file = join(dir, name);
  if (!existsSync(file)) {
    process.stdout.write(`skip: ${file} not found (run its benchmark, then this script again)\n`);
    return undefined;
  }
  const doc = JSON.parse(readFileSync(file, 'utf8')) as ResultFile;
  if (!Array.isArray(doc.results)) throw new Error(`${file}: no results array`);
  return doc;
}

// ------------------------------------------------------------------ dispatch

const POOLS: { key: string; label: string; pool: unknown }[] = [
  { key: 'p1', label: 'pool 1', pool: 1 },
  { key: 'p2', label: 'pool 2', pool: 2 },
  { key: 'p4', label: 'pool 4', pool: 4 },
  { key: 'ps', label: 'one thread per strategy', pool: 'per-strategy' },
];

export function dispatchCharts(doc: ResultFile): Charts {
  const out: Charts = {};
  const rows = doc.results;
  const s = doc.settings;
  for (const kind of ['trivial', 'builtin']) {
    const mine = rows.filter((r) => r['kind'] === kind);
    if (mine.length === 0) continue;
    const counts = [...new Set(mine.map((r) => num(r['strategies'])).filter((x): x is number => x !== undefined))].sort((a, b) => a - b);
    const series: BarSeries[] = [{ key: 'limit', label: 'limit (one thread, no workers)', color: GREY }, ...POOLS.map((p, i) => ({ key: p.key, label: p.label, color: PALETTE[i]! }))];
    const find = (count: number, measure: string, pool: unknown): number | undefined =>
      num(mine.find((r) => r['strategies'] === count && r['measure'] === measure && (pool === undefined || r['pool'] === pool))?.['ticks_per_s']);
    const groups: BarGroup[] = counts.map((count) => {
      const values: Record<string, number | undefined> = { limit: find(count, 'limit', undefined) };
      const markers: Record<string, number | undefined> = {};
      for (const p of POOLS) {
        values[p.key] = find(count, 'runtime', p.pool);
        markers[p.key] = find(count, 'transport', p.pool);
      }
      const fan = num(mine.find((r) => r['strategies'] === count)?.['fanout']);
      return { label: `${thousands(count)} strateg${count === 1 ? 'y' : 'ies'}`, ...(fan === undefined ? {} : { sublabel: `fan-out ${fan}` }), values, markers };
    });
    const hasTransport = groups.some((g) => Object.values(g.markers ?? {}).some((v) => v !== undefined));
    out[`dispatch-${kind}.svg`] = barChart({
      title: `In-process dispatch, ${kind === 'trivial' ? 'trivial strategy (the runtime\u2019s cost)' : 'built-in strategies (momentum, mean reversion)'}`,
      subtitle: `ticks/s from raw JSON tick bytes to signals collected, median of ${str(s['runs'])} runs, ${typeof s['ticks'] === 'number' ? `${thousands(s['ticks'])} ticks per run` : `ticks: ${str(s['ticks'])}`}, ${str(s['instruments'])} instruments, ${str(s['instruments_per_strategy'])} per strategy`,
      yLabel: 'ticks/s',
      xLabel: 'strategies (fan-out: strategies per tick)',
      series,
      groups,
      ...(hasTransport ? { markerLabel: 'transport alone (same pool)' } : {}),
      ...(kind === 'trivial' ? { refLines: [{ value: 1_000_000, label: 'target: 1 M ticks/s (100 strategies, pool 2)' }] } : {}),
      log: 'auto',
      labels: true,
      caption: caption(doc),
    });
  }
  return out;
}

// ------------------------------------------------------------------ memory

export function memoryCharts(doc: ResultFile): Charts {
  const out: Charts = {};
  const rows = doc.results;
  const cases = rows.filter((r) => r['measure'] === 'runtime' && r['error'] === undefined);
  const bare = rows.find((r) => r['measure'] === 'bare-threads');
  const mean = (v: unknown): number | undefined => num((v as { mean?: unknown } | undefined)?.mean);
  const poolLabel = (p: unknown): string => (p === 'per-strategy' ? 'thread/strategy' : `pool ${str(p)}`);
  const caseLabel = (r: Row): Pick<BarGroup, 'label' | 'sublabel'> => ({ label: `${thousands(num(r['strategies']) ?? 0)} ${str(r['kind'])}`, sublabel: `${poolLabel(r['pool'])} (${str(r['threads'])})` });
  if (cases.length > 0 || bare !== undefined) {
    const groups: BarGroup[] = [];
    if (bare !== undefined) groups.push({ label: 'idle Node worker', sublabel: `${str(bare['threads'])} threads`, values: { rss: num(bare['per_thread_rss_mib']), committed: mean(bare['thread_heap_committed_mib']), used: mean(bare['thread_heap_used_mib']) } });
    for (const r of cases) {
      groups.push({
        ...caseLabel(r),
        values: { rss: num(r['per_thread_rss_mib']), committed: mean(r['thread_heap_committed_mib']), used: mean(r['thread_heap_used_mib']) },
      });
    }
    out['memory-per-thread.svg'] = barChart({
      title: 'Memory per worker thread',
      subtitle: 'RSS growth per thread (process RSS is shared: growth ÷ threads), and each thread\u2019s V8 heap after GC, read inside the thread',
      yLabel: 'MiB per thread',
      xLabel: 'strategies, strategy kind, placement (threads)',
      series: [
        { key: 'rss', label: 'RSS per thread', color: PALETTE[0]! },
        { key: 'committed', label: 'V8 heap committed', color: PALETTE[1]! },
        { key: 'used', label: 'V8 heap used', color: PALETTE[2]! },
      ],
      groups,
      log: false,
      labels: true,
      format: (v) => (v >= 10 ? v.toFixed(0) : v.toFixed(1)),
      width: Math.max(800, 100 * groups.length),
      yFormat: ',~g',
      caption: caption(doc, `after ${thousands(num(doc.settings['warm_ticks']) ?? 0)} warm-up ticks`),
    });
    const pgroups: BarGroup[] = cases.map((r) => ({
      ...caseLabel(r),
      values: { total: num(r['rss_after_mib']), supervisor: num(r['supervisor_rss_mib']), threads: (num(r['rss_after_mib']) ?? 0) - (num(r['supervisor_rss_mib']) ?? 0) },
    }));
    out['memory-process.svg'] = barChart({
      title: 'Resident memory of the process: supervisor (main thread) and threads',
      subtitle: 'supervisor = RSS before the threads start + the main thread\u2019s heap growth; threads = the rest',
      yLabel: 'MiB',
      xLabel: 'strategies, strategy kind, placement (threads)',
      series: [
        { key: 'total', label: 'process RSS', color: PALETTE[0]! },
        { key: 'supervisor', label: 'supervisor (main thread)', color: PALETTE[3]! },
        { key: 'threads', label: 'worker threads', color: PALETTE[4]! },
      ],
      groups: pgroups,
      log: 'auto',
      labels: true,
      format: (v) => v.toFixed(0),
      width: Math.max(800, 100 * pgroups.length),
      yFormat: ',~g',
      caption: caption(doc, `after ${thousands(num(doc.settings['warm_ticks']) ?? 0)} warm-up ticks`),
    });
  }
  const soak = rows.find((r) => r['measure'] === 'soak');
  if (soak !== undefined && Array.isArray(soak['samples'])) {
    const samples = soak['samples'] as Row[];
    const pts = (k: string): [number, number][] => samples.map((x) => [num(x['t']) ?? 0, num(x[k]) ?? 0]);
    const warm = num(soak['warmup_seconds']) ?? 0;
    const slope = (k: string): string => str((soak[k] as { slope_per_min?: unknown } | undefined)?.slope_per_min);
    const what = `${thousands(num(soak['strategies']) ?? 0)} ${str(soak['kind'])} strategies, pool ${str(soak['pool'])}, ${thousands(num(soak['rate']) ?? 0)} ticks/s for ${str(soak['seconds'])} s`;
    out['memory-soak.svg'] = lineChart({
      title: `Soak: memory over time (${what})`,
      subtitle: `slopes after the warm-up: RSS ${slope('rss_slope')} MiB/min, main heap ${slope('heap_used_slope')} MiB/min, threads' heap ${slope('thread_heap_used_slope')} MiB/min`,
      xLabel: 'seconds',
      yLabel: 'MiB',
      series: [
        { label: 'process RSS', color: PALETTE[0]!, points: pts('rss_mib') },
        { label: 'main thread heap used', color: PALETTE[3]!, points: pts('heap_used_mib') },
        { label: 'threads\u2019 heap used (sum, heartbeats)', color: PALETTE[2]!, points: pts('thread_heap_used_mib') },
      ],
      xMarks: [{ value: warm, label: 'end of warm-up' }],
      log: false,
      caption: caption(doc),
    });
    out['memory-soak-lag.svg'] = lineChart({
      title: `Soak: lag behind the offered rate (${what})`,
      subtitle: `ticks offered (scheduled) − ticks delivered, sampled every second; kept up: ${soak['kept_up'] === true ? 'yes' : 'no'}, max ${str(soak['max_lag_ms_after_warmup'])} ms of ticks after the warm-up`,
      xLabel: 'seconds',
      yLabel: 'ticks behind',
      series: [
        { label: 'lag (ticks)', color: PALETTE[1]!, points: pts('lag_ticks') },
        { label: 'batches queued to the threads', color: PALETTE[4]!, points: pts('queue_depth'), dashed: true },
      ],
      xMarks: [{ value: warm, label: 'end of warm-up' }],
      refLines: [{ value: num(soak['rate']) ?? 0, label: 'one second of ticks' }],
      log: false,
      caption: caption(doc),
    });
  }
  return out;
}

// ------------------------------------------------------------------ end to end

export function e2eCharts(doc: ResultFile): Charts {
  const rows = doc.results;
  const base = num(rows.find((r) => r['measure'] === 'consume-only')?.['ticks_per_s']);
  const others = rows.filter((r) => r['measure'] !== 'consume-only' && num(r['ticks_per_s']) !== undefined);
  if (others.length === 0 && base === undefined) return {};
  const keyOf = (r: Row): string => (r['measure'] === 'runner' ? `runner, ${r['pool'] === null || r['pool'] === undefined ? 'thread/strategy' : `pool ${str(r['pool'])}`}` : str(r['measure']));
  const keys = [...new Set(others.map(keyOf))];
  const series: BarSeries[] = keys.map((k, i) => ({ key: k, label: k === 'seeds' ? 'seeds: one consumer per strategy' : k, color: k === 'seeds' ? PALETTE[3]! : PALETTE[i % PALETTE.length]! }));
  const counts = [...new Set(others.map((r) => num(r['strategies']) ?? 0))].sort((a, b) => a - b);
  const groups: BarGroup[] = counts.map((c) => {
    const values: Record<string, number | undefined> = {};
    for (const r of others.filter((x) => (num(x['strategies']) ?? 0) === c)) values[keyOf(r)] = num(r['ticks_per_s']);
    // The low-level baselines run no strategy: their own group.
    return { label: c === 0 ? 'client baselines' : `${thousands(c)} strateg${c === 1 ? 'y' : 'ies'}`, values };
  });
  return {
    'e2e.svg': barChart({
      title: 'End to end with the broker: market.ticks → acknowledged signals',
      subtitle: 'ticks/s against the consume-only baseline (the same client reading the same topic, doing nothing)',
      yLabel: 'ticks/s',
      xLabel: 'strategies subscribed',
      series,
      groups,
      ...(base === undefined ? {} : { refLines: [{ value: base, label: `consume-only baseline (${thousands(Math.round(base))}/s)`, color: '#333' }, { value: base * 0.9, label: 'target: 90% of it', color: '#c00' }] }),
      log: 'auto',
      labels: true,
      caption: caption(doc),
    }),
  };
}

// ------------------------------------------------------------------ latency

const PCT = /^(p50|p90|p99|p999|p99_9|max)(_(us|ms))?$/;

export function latencyCharts(doc: ResultFile, file = 'latency.svg'): Charts {
  const hasPct = (o: Row): boolean => Object.keys(o).some((k) => PCT.test(k) && num(o[k]) !== undefined);
  // Rows carry percentiles at the top level, or one object per measured path (in_service, produced_to_acked, ...).
  let entries: { row: Row; pct: Row; path: string }[] = [];
  for (const r of doc.results) {
    if (hasPct(r)) entries.push({ row: r, pct: r, path: [r['measure'], r['path']].filter((x) => typeof x === 'string').join(', ') });
    for (const [k, v] of Object.entries(r)) if (typeof v === 'object' && v !== null && !Array.isArray(v) && hasPct(v as Row)) entries.push({ row: r, pct: v as Row, path: k });
  }
  const preferred = ['in_service', 'produced_to_acked'];
  if (entries.some((e) => preferred.includes(e.path))) entries = entries.filter((e) => preferred.includes(e.path));
  if (entries.length === 0) {
    process.stdout.write('skip: latency results have no percentile fields (p50, p90, p99, p99_9/p999, max) the chart knows\n');
    return {};
  }
  const keys = [...new Set(entries.flatMap((e) => Object.keys(e.pct).filter((k) => PCT.test(k) && num(e.pct[k]) !== undefined)))];
  const order = ['p50', 'p90', 'p99', 'p999', 'p99_9', 'max'];
  keys.sort((a, b) => order.indexOf(a.replace(/_(us|ms)$/, '')) - order.indexOf(b.replace(/_(us|ms)$/, '')));
  const units = new Set(keys.map((k) => (k.endsWith('_ms') ? 'ms' : k.endsWith('_us') ? 'µs' : '')));
  const unit = units.size === 1 ? [...units][0]! : 'mixed units';
  const pathLabel = (p: string): string => ({ in_service: 'in service', produced_to_acked: 'produced → acked', to_js: 'produced → in JS' })[p] ?? p.replace(/_/g, ' ');
  entries.sort((a, b) => (num(a.row['offered_rate']) ?? num(a.row['rate']) ?? 0) - (num(b.row['offered_rate']) ?? num(b.row['rate']) ?? 0) || a.path.localeCompare(b.path));
  const groups: BarGroup[] = entries.map((e) => {
    const values: Record<string, number | undefined> = {};
    for (const k of keys) values[k] = num(e.pct[k]);
    const rate = num(e.row['offered_rate']) ?? num(e.row['rate']) ?? num(e.row['rate_per_s']);
    const kept = e.row['kept_up'] === false ? ' (fell behind)' : '';
    const label = rate === undefined ? pathLabel(e.path) : `${thousands(rate)} ticks/s${kept}`;
    return { label, ...(rate === undefined ? {} : { sublabel: pathLabel(e.path) }), values };
  });
  const ms = unit === 'ms' ? 1 : unit === 'µs' ? 1000 : undefined;
  return {
    [file]: barChart({
      title: `Latency percentiles at fixed offered rates (from the scheduled send time)${sampling(doc)}`,
      subtitle: 'in service: tick bytes handed to JS → signal handed to the producer; produced → acked: tick produced → signal acknowledged',
      yLabel: unit === '' ? 'latency' : `latency (${unit})`,
      xLabel: 'offered rate, path measured',
      series: keys.map((k, i) => ({ key: k, label: k.replace(/_(us|ms)$/, '').replace('p99_9', 'p99.9').replace('p999', 'p99.9'), color: PALETTE[i % PALETTE.length]! })),
      groups,
      ...(ms === undefined ? {} : { refLines: [{ value: 1 * ms, label: 'target: in-service p99 ≤ 1 ms', color: '#c00' }, { value: 10 * ms, label: 'target: produced → acked p99 < 10 ms at 20k/s', color: '#7a0177' }] }),
      log: 'auto',
      labels: true,
      width: Math.max(800, 150 * groups.length),
      yFormat: ',~g',
      format: (v) => (v >= 10_000 ? compact(v) : v >= 100 ? thousands(Math.round(v)) : String(Number(v.toPrecision(3)))),
      caption: caption(doc),
    }),
  };
}

/** How many ticks gave a latency sample (the probe strategy's signal), for the title. */
function sampling(doc: ResultFile): string {
  const every = num(doc.settings['probe_every']);
  if (every === undefined) return '';
  return every === 1 ? ', a signal per tick' : `, one tick in ${every}`;
}

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { results: { type: 'string' }, out: { type: 'string' }, mode: { type: 'string', default: 'full' } } });
  const dir = values.results ?? join(ROOT, 'bench', 'results');
  const mode = values.mode;
  // Only full-mode results make the documentation's charts; a quick run's go beside its (git-ignored) scratch files.
  const outDir = values.out ?? (mode === 'full' ? join(ROOT, 'docs', 'img') : join(ROOT, 'bench', 'results', 'tmp', `img-${mode}`));
  mkdirSync(outDir, { recursive: true });
  const charts: [string, (d: ResultFile) => Charts][] = [
    [`dispatch-${mode}.json`, dispatchCharts],
    [`memory-${mode}.json`, memoryCharts],
    [`e2e-${mode}.json`, e2eCharts],
    [`latency-${mode}.json`, (d) => latencyCharts(d, 'latency.svg')],
    [`latency-${mode}-probe10.json`, (d) => latencyCharts(d, 'latency-probe10.svg')],
  ];
  let written = 0;
  for (const [file, make] of charts) {
    const doc = load(dir, file);
    if (doc === undefined) continue;
    for (const [name, spec] of Object.entries(make(doc))) {
      const path = join(outDir, name);
      writeFileSync(path, await toSvg(spec));
      written++;
      const rel = relative(process.cwd(), path);
      process.stdout.write(`wrote ${rel.startsWith('..') ? path : rel} (from ${file})\n`);
    }
  }
  process.stdout.write(`${written} chart${written === 1 ? '' : 's'} in ${outDir}\n`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await main();
