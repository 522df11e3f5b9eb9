/**
 * Indicator benchmark: nanoseconds per update of each SDK indicator
 * (src/strategies/indicators/), beside the trading-signals class it wraps
 * called directly, so that the wrapper's overhead shows; VWAP (written in the
 * SDK) beside the library's candle VWAP fed one tick-candle per update; RSI
 * kept per instrument over 1,000 instruments (a Map lookup per update); and
 * the timing loop alone.
 *
 * Every case runs in a child process of its own (this file, forked): the
 * timed loop then sees one indicator class, as a strategy's hot loop does,
 * and no case inherits another's JIT feedback or garbage. In the child: one
 * untimed pass to warm the JIT (`--warmup` updates, at least 500,000 by
 * default), then `runs` timed passes of `updates` updates, each on a fresh
 * indicator; the figure is their median.
 * Prints a table and writes bench/results/indicators-<mode>.json.
 *   node dist/bench/indicators.js [--quick] [--updates N] [--runs N] [--warmup N] [--cases sma-20,rsi-14,...] [--out FILE]
 * Full mode: 2,000,000 updates, 5 runs; quick: 200,000 updates, 1 run.
 */
import { fork } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as lib from 'trading-signals';
import { ATR, BollingerBands, EMA, MACD, RSI, SMA, VWAP, perInstrument } from '../src/strategies/indicators/index.js';
import { machine, median } from './lib/machine.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const SELF = fileURLToPath(import.meta.url);

/** Inputs cycle through this many prepared values (a power of two: the index is `i & MASK`). */
const SIZE = 1 << 16;
const MASK = SIZE - 1;
const INSTRUMENTS = 1000;

type Impl = 'sdk' | 'library' | 'none';

export interface CaseResult {
  case: string;
  indicator: string;
  impl: Impl;
  updates: number;
  ns_per_update: number;
  runs: number[];
  /** The indicator's value after the last timed pass (a number; MACD: the MACD line; bands: the upper band): the SDK and the library must agree. */
  last: number;
  note?: string;
}

interface Inputs {
  prices: Float64Array;
  volumes: Float64Array;
  bars: { high: number; low: number; close: number }[];
  tokens: Int32Array;
}

/** The same inputs in every process: a random walk from a fixed seed. */
function inputs(): Inputs {
  let s = 20_261_206;
  const rnd = (): number => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const prices = new Float64Array(SIZE);
  const volumes = new Float64Array(SIZE);
  const bars: Inputs['bars'] = [];
  const tokens = new Int32Array(SIZE);
  let p = 1000;
  for (let i = 0; i < SIZE; i++) {
    p = Math.max(1, p + rnd() - 0.5);
    prices[i] = Math.round(p * 100) / 100;
    volumes[i] = 1 + Math.floor(rnd() * 1000);
    const w = rnd();
    bars.push({ high: prices[i]! + w, low: prices[i]! - w, close: prices[i]! });
    tokens[i] = 100_000 + Math.floor(rnd() * INSTRUMENTS);
  }
  return { prices, volumes, bars, tokens };
}

/**
 * A case: `step(i)` updates the current indicator with input i and returns a
 * number to keep; `fresh()` replaces the indicator with a new one; `last()`
 * reads its value. One step closure serves every pass (a new closure per pass
 * made the optimised loop fall back and measure the tiering, not the indicator).
 */
interface Case {
  indicator: string;
  impl: Impl;
  note?: string;
  make(x: Inputs): Stepper;
}
interface Stepper {
  step(i: number): number;
  fresh(): void;
  last(): number;
}

/** A Stepper over indicators made by `create`. */
function stepper<T>(create: () => T, step: (s: T, i: number) => number, last: (s: T) => number): Stepper {
  let s = create();
  return { step: (i) => step(s, i), fresh: () => void (s = create()), last: () => last(s) };
}

const num = (v: number | null | undefined): number => v ?? 0;

const CASES: Record<string, Case> = {
  loop: {
    indicator: 'timing loop alone',
    impl: 'none',
    note: 'reads the price and returns it: the harness cost inside every other figure',
    make: ({ prices }) => stepper(() => 0, (_, i) => prices[i & MASK]!, () => 0),
  },
  'sma-20': { indicator: 'SMA(20)', impl: 'sdk', make: ({ prices }) => stepper(() => new SMA(20), (s, i) => num(s.update(prices[i & MASK]!)), (s) => num(s.value)) },
  'sma-20-lib': { indicator: 'SMA(20)', impl: 'library', make: ({ prices }) => stepper(() => new lib.SMA(20), (s, i) => num(s.add(prices[i & MASK]!)), (s) => num(s.getResult())) },
  'sma-200': { indicator: 'SMA(200)', impl: 'sdk', make: ({ prices }) => stepper(() => new SMA(200), (s, i) => num(s.update(prices[i & MASK]!)), (s) => num(s.value)) },
  'sma-200-lib': { indicator: 'SMA(200)', impl: 'library', make: ({ prices }) => stepper(() => new lib.SMA(200), (s, i) => num(s.add(prices[i & MASK]!)), (s) => num(s.getResult())) },
  'ema-20': { indicator: 'EMA(20)', impl: 'sdk', make: ({ prices }) => stepper(() => new EMA(20), (s, i) => num(s.update(prices[i & MASK]!)), (s) => num(s.value)) },
  'ema-20-lib': { indicator: 'EMA(20)', impl: 'library', make: ({ prices }) => stepper(() => new lib.EMA(20), (s, i) => num(s.add(prices[i & MASK]!)), (s) => num(s.getResult())) },
  'rsi-14': { indicator: 'RSI(14)', impl: 'sdk', make: ({ prices }) => stepper(() => new RSI(14), (s, i) => num(s.update(prices[i & MASK]!)), (s) => num(s.value)) },
  'rsi-14-lib': { indicator: 'RSI(14)', impl: 'library', make: ({ prices }) => stepper(() => new lib.RSI(14), (s, i) => num(s.add(prices[i & MASK]!)), (s) => num(s.getResult())) },
  macd: { indicator: 'MACD(12,26,9)', impl: 'sdk', make: ({ prices }) => stepper(() => new MACD(), (s, i) => num(s.update(prices[i & MASK]!)?.macd), (s) => num(s.value?.macd)) },
  'macd-lib': {
    indicator: 'MACD(12,26,9)',
    impl: 'library',
    make: ({ prices }) =>
      stepper(() => new lib.MACD(new lib.EMA(12), new lib.EMA(26), new lib.EMA(9)), (s, i) => num(s.add(prices[i & MASK]!)?.macd), (s) => num(s.getResult()?.macd)),
  },
  'bbands-20': { indicator: 'BollingerBands(20,2)', impl: 'sdk', make: ({ prices }) => stepper(() => new BollingerBands(20, 2), (s, i) => num(s.update(prices[i & MASK]!)?.upper), (s) => num(s.value?.upper)) },
  'bbands-20-lib': { indicator: 'BollingerBands(20,2)', impl: 'library', make: ({ prices }) => stepper(() => new lib.BollingerBands(20, 2), (s, i) => num(s.add(prices[i & MASK]!)?.upper), (s) => num(s.getResult()?.upper)) },
  'atr-14': { indicator: 'ATR(14)', impl: 'sdk', make: ({ bars }) => stepper(() => new ATR(14), (s, i) => num(s.update(bars[i & MASK]!)), (s) => num(s.value)) },
  'atr-14-lib': { indicator: 'ATR(14)', impl: 'library', make: ({ bars }) => stepper(() => new lib.ATR(14), (s, i) => num(s.add(bars[i & MASK]!)), (s) => num(s.getResult())) },
  vwap: { indicator: 'VWAP', impl: 'sdk', make: ({ prices, volumes }) => stepper(() => new VWAP(), (s, i) => num(s.update(prices[i & MASK]!, volumes[i & MASK]!)), (s) => num(s.value)) },
  'vwap-lib': {
    indicator: 'VWAP',
    impl: 'library',
    note: "the library weights a candle's typical price: one { high, low, close, volume } object per tick, high = low = close = price",
    make: ({ prices, volumes }) =>
      stepper(
        () => new lib.VWAP(),
        (s, i) => {
          const p = prices[i & MASK]!;
          return num(s.add({ high: p, low: p, close: p, volume: volumes[i & MASK]! }));
        },
        (s) => num(s.getResult()),
      ),
  },
  'per-instrument-lookup': {
    indicator: `lookup alone, ${INSTRUMENTS.toLocaleString('en-US')} instruments`,
    impl: 'none',
    note: 'perInstrument(() => ({ n: 0 })).get(token).n++: the Map lookup and one touch of the instrument\'s state',
    make: ({ tokens }) => stepper(() => perInstrument(() => ({ n: 0 })), (m, i) => ++m.get(tokens[i & MASK]!).n, () => 0),
  },
  'rsi-14-per-instrument': {
    indicator: `RSI(14), ${INSTRUMENTS.toLocaleString('en-US')} instruments`,
    impl: 'sdk',
    note: 'perInstrument(() => new RSI(14)).get(token).update(price), tokens drawn at random',
    make: ({ prices, tokens }) =>
      stepper(
        () => perInstrument(() => new RSI(14)),
        (m, i) => num(m.get(tokens[i & MASK]!).update(prices[i & MASK]!)),
        (m) => num(m.get(tokens[MASK]!).value),
      ),
  },
  'rsi-14-per-instrument-lib': {
    indicator: `RSI(14), ${INSTRUMENTS.toLocaleString('en-US')} instruments`,
    impl: 'library',
    note: "a Map<number, RSI> of the library's RSI, filled on first use",
    make: ({ prices, tokens }) => {
      const get = (m: Map<number, lib.RSI>, t: number): lib.RSI => {
        let r = m.get(t);
        if (r === undefined) m.set(t, (r = new lib.RSI(14)));
        return r;
      };
      return stepper(
        () => new Map<number, lib.RSI>(),
        (m, i) => num(get(m, tokens[i & MASK]!).add(prices[i & MASK]!)),
        (m) => num(get(m, tokens[MASK]!).getResult()),
      );
    },
  },
};

// ------------------------------------------------------------------ child: one case

/** The timed loop; `sink` keeps every step's result observable, so none is optimised away. */
function timed(step: (i: number) => number, updates: number): { ns: number; sink: number } {
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < updates; i++) sink += step(i);
  return { ns: Number(process.hrtime.bigint() - t0) / updates, sink };
}

function runCase(name: string, updates: number, runs: number, warmUpdates: number): CaseResult {
  const c = CASES[name]!;
  const s = c.make(inputs());
  let sink = timed(s.step, warmUpdates).sink; // untimed: the JIT settles on this case's code
  const times: number[] = [];
  let last = 0;
  for (let r = 0; r < runs; r++) {
    s.fresh();
    const t = timed(s.step, updates);
    sink += t.sink;
    times.push(Math.round(t.ns * 10) / 10);
    last = s.last();
  }
  if (Number.isNaN(sink)) process.stderr.write(`${name}: NaN in the sink\n`);
  return { case: name, indicator: c.indicator, impl: c.impl, updates, ns_per_update: median(times), runs: times, last, ...(c.note === undefined ? {} : { note: c.note }) };
}

// ------------------------------------------------------------------ parent

function inChild(name: string, updates: number, runs: number, warmup: number): Promise<CaseResult> {
  return new Promise((resolve, reject) => {
    const p = fork(SELF, ['--child', name, '--updates', String(updates), '--runs', String(runs), '--warmup', String(warmup)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: CaseResult | undefined;
    p.on('message', (m) => {
      result = m as CaseResult;
    });
    p.on('error', reject);
    p.on('exit', (code, signal) => {
      if (result !== undefined) resolve(result);
      else reject(new Error(`indicators case ${name} exited with ${code ?? signal} and no result`));
    });
  });
}

function libraryVersion(): string {
  // trading-signals exports only its entry: its package.json lies two levels above it.
  const entry = fileURLToPath(import.meta.resolve('trading-signals'));
  return (JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string }).version;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      updates: { type: 'string' },
      runs: { type: 'string' },
      warmup: { type: 'string' },
      cases: { type: 'string' },
      out: { type: 'string' },
      child: { type: 'string' },
    },
  });
  const quick = values.quick;
  const updates = Number(values.updates ?? (quick ? 200_000 : 2_000_000));
  const runs = Number(values.runs ?? (quick ? 1 : 5));
  // The untimed pass: long enough for the JIT to settle even when the timed passes are short.
  const warmup = Number(values.warmup ?? Math.max(updates, 500_000));
  if (values.child !== undefined) {
    const r = runCase(values.child, updates, runs, warmup);
    await new Promise<void>((resolve, reject) => process.send!(r, (err: Error | null) => (err ? reject(err) : resolve())));
    process.disconnect();
    return;
  }
  const names = values.cases?.split(',').map((s) => s.trim()) ?? Object.keys(CASES);
  const unknown = names.filter((n) => !(n in CASES));
  if (unknown.length > 0) throw new Error(`--cases: unknown ${unknown.join(', ')}; known: ${Object.keys(CASES).join(', ')}`);

  const results: CaseResult[] = [];
  process.stdout.write(`${'indicator'.padEnd(36)} ${'impl'.padEnd(8)} ${'ns/update'.padStart(10)}   runs\n`);
  for (const name of names) {
    const r = await inChild(name, updates, runs, warmup);
    results.push(r);
    process.stdout.write(`${r.indicator.padEnd(36)} ${r.impl.padEnd(8)} ${r.ns_per_update.toFixed(1).padStart(10)}   ${r.runs.join(', ')}\n`);
  }
  // The wrapper's overhead: the SDK against the library on the same indicator and inputs.
  const overhead: { indicator: string; sdk: number; library: number; overhead_ns: number }[] = [];
  for (const s of results.filter((r) => r.impl === 'sdk')) {
    const l = results.find((r) => r.impl === 'library' && r.indicator === s.indicator);
    if (l === undefined) continue;
    overhead.push({ indicator: s.indicator, sdk: s.ns_per_update, library: l.ns_per_update, overhead_ns: Math.round((s.ns_per_update - l.ns_per_update) * 10) / 10 });
    process.stdout.write(`  ${s.indicator}: SDK − library = ${(s.ns_per_update - l.ns_per_update).toFixed(1)} ns\n`);
  }

  const out = values.out ?? join(HERE, '..', '..', 'bench', 'results', `indicators-${quick ? 'quick' : 'full'}.json`);
  mkdirSync(dirname(out), { recursive: true });
  const settings = {
    updates,
    runs,
    warmup,
    library: `trading-signals ${libraryVersion()}`,
    inputs: `a random walk around 1,000 (steps in [−0.5, 0.5), cents), ${SIZE.toLocaleString('en-US')} prepared prices, volumes and bars cycled; ${INSTRUMENTS} instruments drawn at random for the per-instrument cases`,
    method: 'each case in a child process of its own; one untimed pass of `warmup` updates, then `runs` timed passes of `updates` updates, each on a fresh indicator; ns_per_update is the median pass (every pass is in runs)',
  };
  writeFileSync(out, JSON.stringify({ benchmark: 'indicators', mode: quick ? 'quick' : 'full', at: new Date().toISOString(), machine: machine(), settings, results, overhead }, null, 2) + '\n');
  process.stdout.write(`results: ${out}\n`);
}

await main();
