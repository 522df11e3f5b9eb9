/**
 * In-process dispatch benchmark: ticks/s from raw tick bytes (JSON lines)
 * through decode → route → worker threads → signals collected, against two
 * baselines measured in the same run:
 *  (a) the limit: the same bytes decoded and run through the same strategy
 *      code in this thread, no workers (what one core can do);
 *  (b) the transport alone: the same per-thread batches, encoded and posted
 *      as the runtime does, to threads that only decode them and answer.
 * Prints a table and writes bench/results/dispatch-<mode>.json.
 *   node dist/bench/dispatch.js [--quick] [--ticks N] [--runs N] [--batch N] [--out FILE]
 *                               [--strategies 10,100] [--pools 1,2,per-strategy] [--kinds trivial,builtin]
 *                               [--measures limit,runtime,transport]
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import pino from 'pino';
import { parseStrategyConfigs, type StrategyConfig } from '../src/config/strategy-config.js';
import { decodeTick, type Tick } from '../src/domain/tick.js';
import { emptyPortfolio } from '../src/domain/portfolio.js';
import type { Signal } from '../src/domain/signal.js';
import type { InputEvent } from '../src/ports.js';
import { Pipeline } from '../src/pipeline/pipeline.js';
import { encodeTickBatch } from '../src/protocol/tick-batch-codec.js';
import { RouteTable } from '../src/routing/route-table.js';
import { StrategyRegistry } from '../src/strategies/registry.js';
import { Supervisor } from '../src/supervision/supervisor.js';
import { resolveWorkerEntry } from '../src/supervision/worker-entry.js';
import { StrategyHost } from '../src/strategies/engine/strategy-host.js';
import { buildSignals, intentsOf, tickOrigin } from '../src/strategies/engine/signal-builder.js';
import { CountingSink } from './lib/counting-sink.js';
import { machine, median } from './lib/machine.js';
import { strategies, tickLines } from './lib/workload.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const TRIVIAL = join(HERE, 'strategies', 'trivial.js');
const silent = pino({ level: 'silent' });

export interface CaseResult {
  strategies: number;
  kind: 'trivial' | 'builtin';
  pool: number | 'per-strategy' | 'none';
  measure: 'runtime' | 'limit' | 'transport';
  ticks: number;
  ticks_per_s: number;
  runs: number[];
  signals: number;
  fanout: number;
}

function decodeAll(lines: readonly string[], from: number, to: number): Tick[] {
  const out: Tick[] = [];
  for (let i = from; i < to; i++) {
    const r = decodeTick(lines[i]!);
    if (r.ok) out.push(r.tick);
  }
  return out;
}

/** Decoding happens inside the timed loop: the input is bytes, as a consumer hands them over. */
async function* batches(lines: readonly string[], size: number): AsyncGenerator<InputEvent> {
  for (let i = 0; i < lines.length; i += size) yield { kind: 'ticks', ticks: decodeAll(lines, i, Math.min(lines.length, i + size)) };
}

async function runtime(configs: StrategyConfig[], registry: StrategyRegistry, pool: number | undefined, lines: string[], batch: number): Promise<{ seconds: number; signals: number }> {
  const supervisor = new Supervisor({
    registry,
    modules: [TRIVIAL],
    baseDir: HERE,
    ...(pool === undefined ? {} : { poolSize: pool }),
    logLevel: 'silent',
    logger: silent,
    writeLog: () => {},
    workerFile: resolveWorkerEntry(),
    supervision: { hangTimeoutMs: 60_000, maxQueuedBatches: 16 },
  });
  await supervisor.start(configs);
  try {
    const sink = new CountingSink();
    // Warm the JIT and the threads on a tenth of the stream, then measure.
    await new Pipeline({ supervisor, sink, logger: silent, mode: 'streaming', maxPendingDeliveries: 256 }).run(batches(lines.slice(0, lines.length / 10), batch));
    sink.count = 0;
    const t0 = process.hrtime.bigint();
    await new Pipeline({ supervisor, sink, logger: silent, mode: 'streaming', maxPendingDeliveries: 256 }).run(batches(lines, batch));
    return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, signals: sink.count };
  } finally {
    await supervisor.stop();
  }
}

/** Baseline (a): the same decoding and strategy code, one thread, no workers. */
function limit(configs: StrategyConfig[], registry: StrategyRegistry, lines: string[]): { seconds: number; signals: number } {
  const inst = configs.map((c, slot) => {
    const r = registry.resolve(c);
    const host = new StrategyHost(c, emptyPortfolio(0), silent);
    return { c, slot, instance: r.definition.create(r.params, host.context), tctx: host.tickContext };
  });
  const table = RouteTable.build(configs.map((c, slot) => ({ strategyId: c.id, instruments: c.instruments, host: 0, slot })));
  const run = (from: number, to: number): number => {
    const out: Signal[] = [];
    let signals = 0;
    for (let i = from; i < to; i++) {
      const d = decodeTick(lines[i]!);
      if (!d.ok) continue;
      const targets = table.lookup(d.tick.instrument_token);
      if (targets === undefined) continue;
      const enc = targets[0]!.encoded;
      for (let k = 1; k < enc.length; k++) {
        const s = inst[enc[k]!]!;
        const intents = intentsOf(s.instance.onTick(d.tick, s.tctx), s.c.id);
        for (let e = 0; e < intents.length; e++) buildSignals(intents[e]!, e, tickOrigin(d.tick), s.c.id, s.c.strategy_type, s.c.brokers, out);
        signals += out.length;
        out.length = 0;
      }
    }
    return signals;
  };
  run(0, lines.length / 10);
  const t0 = process.hrtime.bigint();
  const signals = run(0, lines.length);
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, signals };
}

const ECHO = join(HERE, 'lib', 'echo-worker.js');

/** Baseline (b): the per-thread batches of the runtime, posted to threads that only answer. */
async function transport(configs: StrategyConfig[], threads: number, lines: string[], batch: number): Promise<{ seconds: number; signals: number }> {
  const workers = Array.from({ length: threads }, () => new Worker(ECHO));
  const table = RouteTable.build(configs.map((c, i) => ({ strategyId: c.id, instruments: c.instruments, host: i % threads, slot: i })));
  const pending: Promise<unknown>[][] = workers.map(() => []);
  const replies = workers.map((w) => {
    const waiting: (() => void)[] = [];
    w.on('message', () => waiting.shift()?.());
    return waiting;
  });
  const send = (h: number, ticks: Tick[], routes: number[]): Promise<void> =>
    new Promise<void>((resolve) => {
      replies[h]!.push(resolve);
      const enc = encodeTickBatch(ticks, routes);
      workers[h]!.postMessage({ t: 'ticks', batch: 0, ...enc });
    });
  const run = async (from: number, to: number): Promise<void> => {
    const window: Promise<unknown>[] = [];
    for (let i = from; i < to; i += batch) {
      const per: { ticks: Tick[]; routes: number[] }[] = workers.map(() => ({ ticks: [], routes: [] }));
      for (const tick of decodeAll(lines, i, Math.min(to, i + batch))) {
        for (const t of table.lookup(tick.instrument_token) ?? []) {
          per[t.host]!.ticks.push(tick);
          for (const x of t.encoded) per[t.host]!.routes.push(x);
        }
      }
      window.push(Promise.all(per.map((p, h) => (p.ticks.length === 0 ? undefined : send(h, p.ticks, p.routes)))));
      if (window.length >= 16) await window.shift();
    }
    await Promise.all(window);
  };
  void pending;
  try {
    await run(0, lines.length / 10);
    const t0 = process.hrtime.bigint();
    await run(0, lines.length);
    return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, signals: 0 };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      ticks: { type: 'string' },
      runs: { type: 'string' },
      out: { type: 'string' },
      batch: { type: 'string' },
      // e.g. --strategies 100 --pools 2 --kinds trivial: one case, for profiling
      strategies: { type: 'string' },
      pools: { type: 'string' },
      kinds: { type: 'string' },
      measures: { type: 'string' },
    },
  });
  const quick = values.quick;
  // Full mode: a million ticks per run where a run is fast (at 1-2 M ticks/s, 200,000 ticks
  // took 0.1-0.2 s and the threads' start-up and JIT warm-up showed: pool 2 measured 0.93 M
  // ticks/s on 200,000 ticks and 1.30 M on 1,000,000); 1,000 strategies are 10-100x slower
  // per tick, so 200,000 ticks already make runs of 1-30 s.
  const ticksFor = (count: number): number => Number(values.ticks ?? (quick ? 20_000 : count >= 1000 ? 200_000 : 1_000_000));
  const runs = Number(values.runs ?? (quick ? 1 : 3));
  const batch = Number(values.batch ?? 512);
  const list = (v: string | undefined): string[] | undefined => v?.split(',').map((x) => x.trim());
  const counts = list(values.strategies)?.map(Number) ?? (quick ? [10, 100] : [1, 10, 100, 1000]);
  const pools = list(values.pools)?.map((p) => (p === 'per-strategy' ? p : Number(p))) ?? (quick ? [2, 'per-strategy'] : [1, 2, 4, 'per-strategy']);
  const kinds = (list(values.kinds) as ('trivial' | 'builtin')[] | undefined) ?? (quick ? ['trivial'] : ['trivial', 'builtin']);
  const measures = new Set(list(values.measures) ?? ['limit', 'runtime', 'transport']);
  const allLines = tickLines(Math.max(...counts.map(ticksFor)));
  const registry = await StrategyRegistry.create([TRIVIAL], HERE);
  const results: CaseResult[] = [];
  const record = (r: Omit<CaseResult, 'ticks_per_s' | 'runs'>, seconds: number[]): void => {
    const rates = seconds.map((s) => Math.round(r.ticks / s));
    const res = { ...r, runs: rates, ticks_per_s: median(rates) };
    results.push(res);
    process.stdout.write(
      `${String(r.strategies).padStart(5)} strategies  ${r.kind.padEnd(8)} ${String(r.pool).padEnd(13)} ${r.measure.padEnd(9)} ${res.ticks_per_s.toLocaleString('en-US').padStart(11)} ticks/s  fan-out ${r.fanout.toFixed(1)}  signals ${r.signals}\n`,
    );
  };
  for (const kind of kinds) {
    for (const count of counts) {
      const configs = parseStrategyConfigs(strategies(count, kind), 'bench').configs;
      const n = ticksFor(count);
      const lines = allLines.length === n ? allLines : allLines.slice(0, n);
      const fanout = (count * 50) / 1000;
      const lim: number[] = [];
      let limSignals = 0;
      // One whole run first, not timed: with only the tenth-of-the-ticks warm-up inside limit(), the first
      // timed run of each invocation measured about half the speed of the next ones (440k against 890-970k
      // ticks/s at 100 strategies), and the JIT had not settled on the strategy code yet.
      if (measures.has('limit')) limit(configs, registry, lines);
      for (let r = 0; r < (measures.has('limit') ? runs : 0); r++) {
        const x = limit(configs, registry, lines);
        lim.push(x.seconds);
        limSignals = x.signals;
      }
      if (measures.has('limit')) record({ strategies: count, kind, pool: 'none', measure: 'limit', ticks: n, signals: limSignals, fanout }, lim);
      for (const pool of pools) {
        // 1,000 threads do not fit a 2-core machine's sense: one per strategy stops at 100.
        if (pool === 'per-strategy' && count > 100) continue;
        const threads = pool === 'per-strategy' ? count : Math.min(pool, count);
        const rt: number[] = [];
        let signals = 0;
        for (let r = 0; r < (measures.has('runtime') ? runs : 0); r++) {
          const x = await runtime(configs, registry, pool === 'per-strategy' ? undefined : pool, lines, batch);
          rt.push(x.seconds);
          signals = x.signals;
        }
        if (measures.has('runtime')) record({ strategies: count, kind, pool, measure: 'runtime', ticks: n, signals, fanout }, rt);
        if (kind === 'trivial' && measures.has('transport')) {
          const tr: number[] = [];
          for (let r = 0; r < runs; r++) tr.push((await transport(configs, threads, lines, batch)).seconds);
          record({ strategies: count, kind, pool, measure: 'transport', ticks: n, signals: 0, fanout }, tr);
        }
      }
    }
  }
  const out = values.out ?? join(HERE, '..', '..', 'bench', 'results', `dispatch-${quick ? 'quick' : 'full'}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ benchmark: 'dispatch', mode: quick ? 'quick' : 'full', at: new Date().toISOString(), machine: machine(), settings: { ticks: values.ticks !== undefined ? Number(values.ticks) : quick ? 20_000 : '1,000,000 (200,000 at 1,000 strategies)', warmup: 'a tenth of the ticks, before each timed run; the limit also one whole untimed run first per case', runs, batch, instruments: 1000, instruments_per_strategy: 50 }, results }, null, 2) + '\n');
  process.stdout.write(`results: ${out}\n`);
}

await main();
