/**
 * Memory benchmark: resident memory of the supervisor (main thread) and per
 * worker thread at 10, 100 and 1,000 strategies, and a soak: ticks offered
 * at a fixed rate through the live (streaming) dispatch path for a given
 * time, sampling memory and lag every second.
 *
 * Every case runs in a fresh child process (started with --expose-gc, which
 * the worker threads inherit), so that no case inherits another's heap or
 * malloc arenas. Prints a table and writes bench/results/memory-<mode>.json.
 *   node dist/bench/memory.js [--quick] [--sizes 10,100,1000] [--kinds trivial,builtin]
 *     [--pool 4] [--per-strategy-max 100] [--warm-ticks N] [--bare-threads N]
 *     [--soak-seconds N] [--soak-rate N] [--soak-strategies N] [--soak-pool N] [--soak-kind trivial]
 *     [--out FILE]
 * --soak-seconds 0 skips the soak; full mode soaks for 600 s, quick mode for 10 s.
 */
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getHeapStatistics } from 'node:v8';
import { Worker } from 'node:worker_threads';
import pino from 'pino';
import { parseStrategyConfigs, type StrategyConfig, type StrategyConfigInput } from '../src/config/strategy-config.js';
import { decodeTick, type Tick } from '../src/domain/tick.js';
import type { InputEvent } from '../src/ports.js';
import { Pipeline } from '../src/pipeline/pipeline.js';
import { StrategyRegistry } from '../src/strategies/registry.js';
import { Supervisor } from '../src/supervision/supervisor.js';
import { resolveWorkerEntry } from '../src/supervision/worker-entry.js';
import { CountingSink } from './lib/counting-sink.js';
import { machine } from './lib/machine.js';
import { checkTickStream, tickLineStream } from './lib/tick-stream.js';
import { strategies } from './lib/workload.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const TRIVIAL = join(HERE, 'strategies', 'trivial.js');
const PROBE = join(HERE, 'lib', 'memory-probe.js');
/** The probes' instrument: outside the workload's 100,000–100,999. */
const PROBE_TOKEN = 1;
const MiB = 2 ** 20;
const BATCH = 512;
const silent = pino({ level: 'silent' });

type Kind = 'trivial' | 'builtin';
type Pool = number | 'per-strategy';

interface CaseSpec {
  type: 'case';
  kind: Kind;
  strategies: number;
  pool: Pool;
  warmTicks: number;
}
interface BareSpec {
  type: 'bare';
  threads: number;
}
interface SoakSpec {
  type: 'soak';
  kind: Kind;
  strategies: number;
  pool: number;
  rate: number;
  seconds: number;
  warmupSeconds: number;
  windowSeconds: number;
  intervalMs: number;
  batchMax: number;
}
type Spec = CaseSpec | BareSpec | SoakSpec;

/** A thread's V8 heap, read inside it after a GC (bench/lib/memory-probe.ts). */
interface ThreadHeap {
  thread_id: number;
  gc: boolean;
  used_heap_size: number;
  total_heap_size: number;
  total_physical_size: number;
  malloced_memory: number;
  external_memory: number;
  array_buffers: number;
}

interface Stats {
  mean: number;
  min: number;
  max: number;
}

export interface CaseResult {
  measure: 'runtime';
  kind: Kind;
  strategies: number;
  pool: Pool;
  threads: number;
  warm_ticks: number;
  signals: number;
  /** process RSS after loading everything, before any thread starts (MiB) */
  rss_before_mib: number;
  /** process RSS with the threads running, after the warm-up ticks and a GC (MiB) */
  rss_after_mib: number;
  /** main-thread (supervisor) V8 heap used after GC, before and after (MiB) */
  main_heap_used_before_mib: number;
  main_heap_used_after_mib: number;
  /** what the supervisor's own state adds to the main thread's heap: heap used after − before (MiB) */
  supervisor_heap_mib: number;
  /** the supervisor's share of the RSS: RSS before threads + main-thread committed heap growth (MiB) */
  supervisor_rss_mib: number;
  /** (RSS after − RSS before − main-thread committed heap growth) / threads (MiB) */
  per_thread_rss_mib: number;
  /** each thread's V8 heap used after GC, inside the thread (MiB; mean, min, max over threads) */
  thread_heap_used_mib: Stats;
  /** each thread's V8 heap committed (total_physical_size) after GC (MiB) */
  thread_heap_committed_mib: Stats;
  /** each thread's malloced memory as V8 counts it (MiB, mean) */
  thread_malloced_mib: number;
  /** per-thread heap used as the runtime's status() reports it (heartbeat/health, no GC; MiB, mean) */
  status_heap_used_mib: number | null;
  probes_answered: number;
}

export interface BareResult {
  measure: 'bare-threads';
  threads: number;
  rss_before_mib: number;
  rss_after_mib: number;
  per_thread_rss_mib: number;
  thread_heap_used_mib: Stats;
  thread_heap_committed_mib: Stats;
}

interface SoakSample {
  t: number;
  offered: number;
  dispatched: number;
  delivered: number;
  lag_ticks: number;
  rss_mib: number;
  heap_used_mib: number;
  heap_total_mib: number;
  external_mib: number;
  thread_heap_used_mib: number;
  queue_depth: number;
  loop_delay_p99_ms: number;
  loop_delay_max_ms: number;
}

interface Fit {
  slope_per_min: number;
  r2: number;
}

export interface SoakResult {
  measure: 'soak';
  kind: Kind;
  strategies: number;
  pool: number;
  threads: number;
  rate: number;
  seconds: number;
  warmup_seconds: number;
  window_seconds: number;
  ticks_offered: number;
  ticks_delivered: number;
  delivered_per_s: number;
  signals: number;
  conflated_ticks: number;
  dropped_ticks: number;
  max_lag_ticks_after_warmup: number;
  max_lag_ms_after_warmup: number;
  lag_slope_ticks_per_s: number;
  kept_up: boolean;
  /** linear regression over the samples after the warm-up: MiB per minute */
  rss_slope: Fit;
  heap_used_slope: Fit;
  thread_heap_used_slope: Fit;
  /** mean of the first vs last `window_seconds` of samples after the warm-up (MiB) */
  rss_first_mib: number;
  rss_last_mib: number;
  heap_used_first_mib: number;
  heap_used_last_mib: number;
  /** after a forced GC, at the end of the warm-up and at the end of the soak (MiB) */
  main_heap_after_gc_warm_mib: number;
  main_heap_after_gc_end_mib: number;
  thread_heap_after_gc_warm_mib: number[];
  thread_heap_after_gc_end_mib: number[];
  samples: SoakSample[];
}

type Result = (CaseResult | BareResult | SoakResult) & { attempts?: number };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const mib = (bytes: number): number => Math.round((bytes / MiB) * 100) / 100;
const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;

function stats(xs: readonly number[]): Stats {
  if (xs.length === 0) return { mean: 0, min: 0, max: 0 };
  return { mean: mib(xs.reduce((a, b) => a + b, 0) / xs.length), min: mib(Math.min(...xs)), max: mib(Math.max(...xs)) };
}

/** Collect garbage on this thread until the heap settles (children run with --expose-gc). */
async function settle(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await sleep(30);
  }
}

/** Least-squares line through (x, y): slope and r². */
export function linearFit(xs: readonly number[], ys: readonly number[]): { slope: number; r2: number } {
  const n = xs.length;
  if (n < 2) return { slope: 0, r2: 0 };
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { slope, r2: sxx === 0 || syy === 0 ? 0 : (sxy * sxy) / (sxx * syy) };
}

function newSupervisor(registry: StrategyRegistry, threads: number): Supervisor {
  return new Supervisor({
    registry,
    modules: [TRIVIAL, PROBE],
    baseDir: HERE,
    poolSize: threads,
    logLevel: 'silent',
    logger: silent,
    writeLog: () => {},
    workerFile: resolveWorkerEntry(),
    // 100 threads starting at once on 2 cores: a thread's init can take longer than the service's 10 s default
    // (seen on 2026-12-06: 'init() got no answer within 10000 ms'), and this program measures memory, not start-up.
    controlTimeoutMs: 60_000,
    supervision: { hangTimeoutMs: 60_000 },
  });
}

/**
 * The workload's configurations behind one probe per thread. Placement is
 * round-robin in configuration order, so probe i lands on thread i and the
 * workload is spread exactly as without the probes.
 */
function configsWithProbes(count: number, kind: Kind, threads: number): StrategyConfig[] {
  const probes: StrategyConfigInput[] = Array.from({ length: threads }, (_, i) => ({ id: `probe${String(i).padStart(4, '0')}`, strategy_type: 'BenchMemoryProbe', instruments: [PROBE_TOKEN] }));
  const parsed = parseStrategyConfigs([...probes, ...strategies(count, kind)], 'bench');
  if (parsed.errors.length > 0) throw parsed.errors[0]!;
  return parsed.configs;
}

/** Ask every thread's probe for its heap (after a GC in that thread). */
async function probeThreads(supervisor: Supervisor): Promise<ThreadHeap[]> {
  const tick: Tick = { instrument_token: PROBE_TOKEN, last_price: 1, timestamp: Date.now() };
  const r = await supervisor.dispatch([tick]);
  const byThread = new Map<number, ThreadHeap>();
  for (const s of r.signals) {
    if (s.reason === undefined) continue;
    const h = JSON.parse(s.reason) as ThreadHeap;
    byThread.set(h.thread_id, h); // one signal per broker: keep one per thread
  }
  return [...byThread.values()];
}

/** `count` tick lines of the workload in batches, made as they are consumed: the input is never held in memory. */
async function* batches(count: number, size: number): AsyncGenerator<InputEvent> {
  const lines = tickLineStream();
  for (let i = 0; i < count; i += size) {
    const ticks: Tick[] = [];
    for (let k = i; k < Math.min(count, i + size); k++) {
      const d = decodeTick(lines.next().value);
      if (d.ok) ticks.push(d.tick);
    }
    yield { kind: 'ticks', ticks };
  }
}

// ------------------------------------------------------------------ child: one case

async function runCase(spec: CaseSpec): Promise<CaseResult> {
  const threads = spec.pool === 'per-strategy' ? spec.strategies : Math.min(spec.pool, spec.strategies);
  const registry = await StrategyRegistry.create([TRIVIAL, PROBE], HERE);
  const configs = configsWithProbes(spec.strategies, spec.kind, threads);
  checkTickStream();
  await settle();
  const before = process.memoryUsage();
  const supervisor = newSupervisor(registry, threads);
  try {
    const report = await supervisor.start(configs);
    if (report.rejected.length > 0) throw new Error(`strategies rejected: ${JSON.stringify(report.rejected[0])}`);
    const sink = new CountingSink();
    // Ordered dispatch: every strategy sees every tick it subscribes to, so its state is the same every run.
    await new Pipeline({ supervisor, sink, logger: silent }).run(batches(spec.warmTicks, BATCH));
    await sleep(200);
    const heaps = await probeThreads(supervisor);
    const status = await supervisor.status();
    await settle();
    const after = process.memoryUsage();
    const committedGrowth = Math.max(0, after.heapTotal - before.heapTotal);
    const statusHeaps = status.threads.map((t) => t.heap_used_bytes).filter((x): x is number => x !== null);
    return {
      measure: 'runtime',
      kind: spec.kind,
      strategies: spec.strategies,
      pool: spec.pool,
      threads: report.threads,
      warm_ticks: spec.warmTicks,
      signals: sink.count,
      rss_before_mib: mib(before.rss),
      rss_after_mib: mib(after.rss),
      main_heap_used_before_mib: mib(before.heapUsed),
      main_heap_used_after_mib: mib(after.heapUsed),
      supervisor_heap_mib: mib(after.heapUsed - before.heapUsed),
      supervisor_rss_mib: mib(before.rss + committedGrowth),
      per_thread_rss_mib: mib((after.rss - before.rss - committedGrowth) / report.threads),
      thread_heap_used_mib: stats(heaps.map((h) => h.used_heap_size)),
      thread_heap_committed_mib: stats(heaps.map((h) => h.total_physical_size)),
      thread_malloced_mib: stats(heaps.map((h) => h.malloced_memory)).mean,
      status_heap_used_mib: statusHeaps.length === 0 ? null : stats(statusHeaps).mean,
      probes_answered: heaps.length,
    };
  } finally {
    await supervisor.stop();
  }
}

const BARE = `const { parentPort } = require('node:worker_threads');
const v8 = require('node:v8');
parentPort.on('message', () => {
  globalThis.gc?.();
  const h = v8.getHeapStatistics();
  parentPort.postMessage({ used_heap_size: h.used_heap_size, total_physical_size: h.total_physical_size });
});
parentPort.postMessage('ready');`;

/** The floor: what an idle Node worker thread costs, with nothing of ours in it. */
async function runBare(spec: BareSpec): Promise<BareResult> {
  await settle();
  const before = process.memoryUsage();
  const workers = Array.from({ length: spec.threads }, () => new Worker(BARE, { eval: true }));
  const next = (w: Worker): Promise<unknown> => new Promise((resolve) => w.once('message', resolve));
  await Promise.all(workers.map(next));
  const answers = workers.map(next);
  for (const w of workers) w.postMessage('stats');
  const heaps = (await Promise.all(answers)) as { used_heap_size: number; total_physical_size: number }[];
  await settle();
  const after = process.memoryUsage();
  await Promise.all(workers.map((w) => w.terminate()));
  const committedGrowth = Math.max(0, after.heapTotal - before.heapTotal);
  return {
    measure: 'bare-threads',
    threads: spec.threads,
    rss_before_mib: mib(before.rss),
    rss_after_mib: mib(after.rss),
    per_thread_rss_mib: mib((after.rss - before.rss - committedGrowth) / spec.threads),
    thread_heap_used_mib: stats(heaps.map((h) => h.used_heap_size)),
    thread_heap_committed_mib: stats(heaps.map((h) => h.total_physical_size)),
  };
}

// ------------------------------------------------------------------ child: soak

async function runSoak(spec: SoakSpec): Promise<SoakResult> {
  const threads = Math.min(spec.pool, spec.strategies);
  const registry = await StrategyRegistry.create([TRIVIAL, PROBE], HERE);
  const configs = configsWithProbes(spec.strategies, spec.kind, threads);
  const total = Math.round(spec.rate * spec.seconds);
  // The workload's tick lines, made as they are offered and decoded as a consumer hands them over.
  checkTickStream();
  const lines = tickLineStream();
  const supervisor = newSupervisor(registry, threads);
  const report = await supervisor.start(configs);
  if (report.rejected.length > 0) throw new Error(`strategies rejected: ${JSON.stringify(report.rejected[0])}`);
  const sink = new CountingSink();
  // The live path: streaming dispatch with the service's defaults (slow threads conflated, backpressure when all are full).
  const pipeline = new Pipeline({ supervisor, sink, logger: silent, mode: 'streaming' });
  const st = { t0: 0, taken: 0, delivered: 0, stop: false };
  async function* paced(): AsyncGenerator<InputEvent> {
    while (st.taken < total && !st.stop) {
      const due = Math.min(total, Math.floor(((performance.now() - st.t0) / 1000) * spec.rate));
      if (due <= st.taken) {
        await sleep(spec.intervalMs);
        continue;
      }
      const n = Math.min(due - st.taken, spec.batchMax);
      const ticks: Tick[] = [];
      for (let k = 0; k < n; k++) {
        const d = decodeTick(lines.next().value);
        if (d.ok) ticks.push(d.tick);
      }
      st.taken += n;
      yield { kind: 'ticks', ticks, onDelivered: () => (st.delivered += n) };
    }
  }

  const samples: SoakSample[] = [];
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  let warm: { heap: number; threads: number[] } | undefined;
  let warming: Promise<void> | undefined;
  await settle();
  st.t0 = performance.now();
  const sampler = setInterval(() => {
    const t = (performance.now() - st.t0) / 1000;
    const m = process.memoryUsage();
    const offered = Math.min(total, Math.floor(t * spec.rate));
    const hosts = supervisor.threads;
    samples.push({
      t: round(t, 3),
      offered,
      dispatched: st.taken,
      delivered: st.delivered,
      lag_ticks: offered - st.delivered,
      rss_mib: mib(m.rss),
      heap_used_mib: mib(m.heapUsed),
      heap_total_mib: mib(m.heapTotal),
      external_mib: mib(m.external),
      thread_heap_used_mib: mib(hosts.reduce((a, h) => a + h.heapUsed, 0)),
      queue_depth: hosts.reduce((a, h) => a + h.queueDepth, 0),
      loop_delay_p99_ms: round(loop.percentile(99) / 1e6),
      loop_delay_max_ms: round(loop.max / 1e6),
    });
    loop.reset();
    if (warm === undefined && warming === undefined && t >= spec.warmupSeconds) {
      // End of the warm-up: the retained heap after a GC, on every thread, is the reference for the end.
      warming = (async () => {
        (globalThis as { gc?: () => void }).gc?.();
        const heap = process.memoryUsage().heapUsed;
        const th = await probeThreads(supervisor);
        warm = { heap, threads: th.map((h) => h.used_heap_size) };
      })();
    }
  }, 1000);
  let counters;
  try {
    counters = await pipeline.run(paced());
  } finally {
    clearInterval(sampler);
    loop.disable();
  }
  await warming;
  const status = await supervisor.status();
  await settle();
  const endHeap = process.memoryUsage().heapUsed;
  const endThreads = (await probeThreads(supervisor)).map((h) => h.used_heap_size);
  await supervisor.stop();

  const after = samples.filter((s) => s.t >= spec.warmupSeconds);
  const ts = after.map((s) => s.t);
  const fit = (ys: number[]): Fit => {
    const f = linearFit(ts, ys);
    return { slope_per_min: round(f.slope * 60, 3), r2: round(f.r2, 3) };
  };
  const mean = (xs: number[]): number => (xs.length === 0 ? 0 : round(xs.reduce((a, b) => a + b, 0) / xs.length));
  const first = after.filter((s) => s.t < spec.warmupSeconds + spec.windowSeconds);
  const lastFrom = (after.at(-1)?.t ?? 0) - spec.windowSeconds;
  const last = after.filter((s) => s.t > lastFrom);
  const maxLag = after.reduce((a, s) => Math.max(a, s.lag_ticks), 0);
  const conflated = status.totals['conflated_ticks'] ?? 0;
  const dropped = status.totals['dropped_ticks'] ?? 0;
  const lagSlope = linearFit(ts, after.map((s) => s.lag_ticks)).slope;
  const elapsed = samples.at(-1)?.t ?? spec.seconds;
  return {
    measure: 'soak',
    kind: spec.kind,
    strategies: spec.strategies,
    pool: spec.pool,
    threads: report.threads,
    rate: spec.rate,
    seconds: spec.seconds,
    warmup_seconds: spec.warmupSeconds,
    window_seconds: spec.windowSeconds,
    ticks_offered: total,
    ticks_delivered: st.delivered,
    delivered_per_s: Math.round(st.delivered / Math.max(elapsed, spec.seconds)),
    signals: counters.signals,
    conflated_ticks: conflated,
    dropped_ticks: dropped,
    max_lag_ticks_after_warmup: maxLag,
    max_lag_ms_after_warmup: round((maxLag / spec.rate) * 1000, 1),
    lag_slope_ticks_per_s: round(lagSlope, 2),
    // Kept up: never more than one second of ticks behind after the warm-up, and no tick conflated or dropped.
    kept_up: maxLag < spec.rate && conflated === 0 && dropped === 0 && st.delivered === total,
    rss_slope: fit(after.map((s) => s.rss_mib)),
    heap_used_slope: fit(after.map((s) => s.heap_used_mib)),
    thread_heap_used_slope: fit(after.map((s) => s.thread_heap_used_mib)),
    rss_first_mib: mean(first.map((s) => s.rss_mib)),
    rss_last_mib: mean(last.map((s) => s.rss_mib)),
    heap_used_first_mib: mean(first.map((s) => s.heap_used_mib)),
    heap_used_last_mib: mean(last.map((s) => s.heap_used_mib)),
    main_heap_after_gc_warm_mib: warm === undefined ? 0 : mib(warm.heap),
    main_heap_after_gc_end_mib: mib(endHeap),
    thread_heap_after_gc_warm_mib: (warm?.threads ?? []).map(mib),
    thread_heap_after_gc_end_mib: endThreads.map(mib),
    samples,
  };
}

async function child(spec: Spec): Promise<void> {
  const r = spec.type === 'case' ? await runCase(spec) : spec.type === 'bare' ? await runBare(spec) : await runSoak(spec);
  await new Promise<void>((resolve, reject) => process.send!(r, (err: Error | null) => (err ? reject(err) : resolve())));
  process.disconnect();
}

// ------------------------------------------------------------------ parent

/** Run one case in a child; a child that dies without a result is retried once (said on stderr and in the row). */
async function inChild(spec: Spec): Promise<Result> {
  try {
    return await inChildOnce(spec);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}; retrying once\n`);
    return { ...(await inChildOnce(spec)), attempts: 2 };
  }
}

function inChildOnce(spec: Spec): Promise<Result> {
  return new Promise((resolve, reject) => {
    const p = fork(SELF, ['--child', JSON.stringify(spec)], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: Result | undefined;
    let timer: NodeJS.Timeout | undefined;
    p.on('message', (m) => {
      result = m as Result;
      // The result is in: a child that does not exit on its own within 30 s is ended.
      timer = setTimeout(() => p.kill('SIGKILL'), 30_000);
    });
    p.on('error', reject);
    p.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (result !== undefined) resolve(result);
      else reject(new Error(`memory case ${JSON.stringify(spec)} exited with ${code ?? signal} and no result`));
    });
  });
}

const pad = (x: unknown, n: number): string => String(x).padStart(n);

function printRow(r: Result): void {
  if (r.measure === 'bare-threads') {
    process.stdout.write(`${pad('bare', 8)} ${pad('-', 10)} ${pad('-', 13)} ${pad(r.threads, 7)} ${pad(r.rss_before_mib.toFixed(1), 10)} ${pad(r.rss_after_mib.toFixed(1), 10)} ${pad('-', 10)} ${pad('-', 10)} ${pad(r.per_thread_rss_mib.toFixed(2), 10)} ${pad(r.thread_heap_used_mib.mean.toFixed(2), 10)} ${pad(r.thread_heap_committed_mib.mean.toFixed(2), 10)}\n`);
  } else if (r.measure === 'runtime') {
    process.stdout.write(`${pad(r.kind, 8)} ${pad(r.strategies, 10)} ${pad(r.pool, 13)} ${pad(r.threads, 7)} ${pad(r.rss_before_mib.toFixed(1), 10)} ${pad(r.rss_after_mib.toFixed(1), 10)} ${pad(r.supervisor_rss_mib.toFixed(1), 10)} ${pad(r.supervisor_heap_mib.toFixed(2), 10)} ${pad(r.per_thread_rss_mib.toFixed(2), 10)} ${pad(r.thread_heap_used_mib.mean.toFixed(2), 10)} ${pad(r.thread_heap_committed_mib.mean.toFixed(2), 10)}\n`);
  }
}

function printSoak(r: SoakResult): void {
  const w = process.stdout.write.bind(process.stdout);
  w(`\nsoak: ${r.strategies} ${r.kind} strategies, pool ${r.pool}, ${r.rate.toLocaleString('en-US')} ticks/s for ${r.seconds} s (warm-up ${r.warmup_seconds} s)\n`);
  w(`  delivered ${r.ticks_delivered.toLocaleString('en-US')} / ${r.ticks_offered.toLocaleString('en-US')} ticks (${r.delivered_per_s.toLocaleString('en-US')}/s), signals ${r.signals}, conflated ${r.conflated_ticks}, dropped ${r.dropped_ticks}\n`);
  w(`  lag after warm-up: max ${r.max_lag_ticks_after_warmup} ticks (${r.max_lag_ms_after_warmup} ms), slope ${r.lag_slope_ticks_per_s} ticks/s  → kept up: ${r.kept_up ? 'yes' : 'NO'}\n`);
  w(`  RSS        slope ${r.rss_slope.slope_per_min} MiB/min (r² ${r.rss_slope.r2}); first ${r.window_seconds} s ${r.rss_first_mib} MiB, last ${r.window_seconds} s ${r.rss_last_mib} MiB\n`);
  w(`  main heap  slope ${r.heap_used_slope.slope_per_min} MiB/min (r² ${r.heap_used_slope.r2}); first ${r.heap_used_first_mib} MiB, last ${r.heap_used_last_mib} MiB; after GC ${r.main_heap_after_gc_warm_mib} → ${r.main_heap_after_gc_end_mib} MiB\n`);
  w(`  threads    heap slope ${r.thread_heap_used_slope.slope_per_min} MiB/min (sum of heartbeats); after GC ${r.thread_heap_after_gc_warm_mib.join(', ')} → ${r.thread_heap_after_gc_end_mib.join(', ')} MiB\n`);
}

const METHOD = {
  isolation: 'every case runs in a fresh child process started with --expose-gc (worker threads inherit it), so no case inherits another case\'s heap or malloc arenas',
  rss: 'process RSS (process.memoryUsage().rss) after a forced GC on the main thread: before any thread starts (everything imported, configurations parsed; the tick lines are made as they are consumed, so the input is never held in memory) and after the threads started and the warm-up ticks went through (ordered dispatch)',
  supervisor_rss: 'RSS before the threads start + growth of the main thread\'s committed V8 heap (heapTotal); supervisor_heap is the growth of the main thread\'s heap used, after GC. It includes the supervisor\'s re-warm tick history (supervision.rewarmTicks = 256 ticks per routed instrument): the full-mode warm-up (300,000 ticks over 1,000 instruments) fills most of it',
  per_thread_rss: 'RSS is shared by all threads of the process: (RSS after − RSS before − main-thread committed heap growth) / threads. Includes each thread\'s isolate, V8 heap, code, libuv loop and stack, and the main thread\'s native per-thread objects (ports)',
  thread_heap: 'read inside each thread by a probe strategy (bench/lib/memory-probe.ts, one per thread, on an instrument the workload does not trade) that runs gc() then v8.getHeapStatistics(): used_heap_size (heap used) and total_physical_size (heap committed); the runtime\'s status() reports heap used per thread too (heartbeat/health, no GC: status_heap_used_mib)',
  probes: 'one probe strategy per thread is added in front of the workload; placement is round-robin in configuration order, so the workload lands on the threads as without probes. one thread per strategy is run as poolSize = strategies (the same thread count as the default)',
  bare_threads: 'the floor: idle node:worker_threads Workers (eval, one message listener), measured the same way',
  soak: 'one child process; ticks offered at a fixed rate (due = rate × elapsed, polled every interval_ms, at most batch_max ticks per batch) from the workload\'s tick lines (made as offered, decoded as a consumer would) through Pipeline (streaming, as `run`) + Supervisor; sampled every second: RSS, main heap used/total, sum of the threads\' heartbeat heap used, queue depth, event-loop delay, offered (scheduled) vs dispatched vs delivered ticks. Slopes: least squares after the warm-up; first/last: mean of the first/last window_seconds after the warm-up. kept_up: lag (offered − delivered) under one second of ticks after the warm-up, no tick conflated or dropped, every tick delivered. The main heap includes the supervisor\'s re-warm tick history (fills during the first 256 × 1,000 ticks, then constant)',
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      sizes: { type: 'string' },
      kinds: { type: 'string' },
      pool: { type: 'string' },
      'per-strategy-max': { type: 'string' },
      'warm-ticks': { type: 'string' },
      'bare-threads': { type: 'string' },
      'soak-seconds': { type: 'string' },
      'soak-rate': { type: 'string' },
      'soak-strategies': { type: 'string' },
      'soak-pool': { type: 'string' },
      'soak-kind': { type: 'string' },
      'soak-warmup': { type: 'string' },
      child: { type: 'string' },
    },
  });
  if (values.child !== undefined) {
    await child(JSON.parse(values.child) as Spec);
    return;
  }
  const quick = values.quick;
  const sizes = (values.sizes ?? (quick ? '10,100' : '10,100,1000')).split(',').filter((x) => x !== '').map(Number);
  const kinds = (values.kinds ?? (quick ? 'trivial' : 'trivial,builtin')).split(',') as Kind[];
  for (const k of kinds) if (k !== 'trivial' && k !== 'builtin') throw new Error(`--kinds: unknown kind ${k}`);
  const pool = Number(values.pool ?? 4);
  const perStrategyMax = Number(values['per-strategy-max'] ?? 100);
  const warmTicks = Number(values['warm-ticks'] ?? (quick ? 20_000 : 300_000));
  const bareThreads = Number(values['bare-threads'] ?? (quick ? 4 : 10));
  const soakSeconds = Number(values['soak-seconds'] ?? (quick ? 10 : 600));
  const soakRate = Number(values['soak-rate'] ?? 20_000);
  const soakStrategies = Number(values['soak-strategies'] ?? 1000);
  const soakPool = Number(values['soak-pool'] ?? 4);
  const soakKind = (values['soak-kind'] ?? 'trivial') as Kind;
  const warmupSeconds = Number(values['soak-warmup'] ?? Math.max(1, Math.min(60, Math.round(soakSeconds * 0.2))));
  const windowSeconds = Math.max(1, Math.min(60, Math.round((soakSeconds - warmupSeconds) / 4)));

  const results: Result[] = [];
  process.stdout.write(`${pad('kind', 8)} ${pad('strategies', 10)} ${pad('pool', 13)} ${pad('threads', 7)} ${pad('RSS before', 10)} ${pad('RSS after', 10)} ${pad('superv RSS', 10)} ${pad('superv heap', 10)} ${pad('thread RSS', 10)} ${pad('thr heap', 10)} ${pad('thr commit', 10)}   (MiB)\n`);
  if (bareThreads > 0) {
    const r = await inChild({ type: 'bare', threads: bareThreads });
    results.push(r);
    printRow(r);
  }
  for (const kind of kinds) {
    for (const count of sizes) {
      const pools: Pool[] = count <= perStrategyMax ? ['per-strategy', pool] : [pool];
      for (const p of pools) {
        try {
          const r = await inChild({ type: 'case', kind, strategies: count, pool: p, warmTicks });
          results.push(r);
          printRow(r);
        } catch (err) {
          // Failed twice: recorded as such (not measured), and the other cases go on.
          const error = (err as Error).message;
          results.push({ measure: 'runtime', kind, strategies: count, pool: p, error } as unknown as Result);
          process.stdout.write(`${pad(kind, 8)} ${pad(count, 10)} ${pad(p, 13)}  FAILED: ${error}\n`);
        }
      }
    }
  }
  const soak: SoakSpec = { type: 'soak', kind: soakKind, strategies: soakStrategies, pool: soakPool, rate: soakRate, seconds: soakSeconds, warmupSeconds, windowSeconds, intervalMs: 5, batchMax: 2048 };
  if (soakSeconds > 0) {
    const r = (await inChild(soak)) as SoakResult;
    results.push(r);
    printSoak(r);
  }
  const out = values.out ?? join(HERE, '..', '..', 'bench', 'results', `memory-${quick ? 'quick' : 'full'}.json`);
  mkdirSync(dirname(out), { recursive: true });
  const settings = {
    sizes,
    kinds,
    pool,
    pools: `one thread per strategy for ${perStrategyMax} strategies or fewer, and pool ${pool} for every size (one thread per strategy at 1,000 strategies is not a sensible set-up on ${machine()['cores']} cores)`,
    warm_ticks: warmTicks,
    batch: BATCH,
    instruments: 1000,
    instruments_per_strategy: 50,
    bare_threads: bareThreads,
    soak: soakSeconds > 0 ? { kind: soakKind, strategies: soakStrategies, pool: soakPool, rate: soakRate, seconds: soakSeconds, warmup_seconds: warmupSeconds, window_seconds: windowSeconds, interval_ms: soak.intervalMs, batch_max: soak.batchMax } : null,
    main_heap_limit_mib: mib(getHeapStatistics().heap_size_limit),
    units: 'MiB (2^20 bytes)',
    method: METHOD,
  };
  writeFileSync(out, JSON.stringify({ benchmark: 'memory', mode: quick ? 'quick' : 'full', at: new Date().toISOString(), machine: machine(), settings, results }, null, 2) + '\n');
  process.stdout.write(`results: ${out}\n`);
}

await main();
