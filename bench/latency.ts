/**
 * Latency at fixed offered rates, with the real broker and the live runner's
 * components (KafkaInput → Pipeline → Supervisor threads → KafkaSignalSink,
 * composed as Service does; 100 trivial strategies over 1,000 instruments, 50
 * each, plus one probe strategy on every instrument that emits a signal for
 * every tick, so each tick gives exactly one latency sample).
 *
 * A load generator in a separate process (bench/lib/latency-loadgen.ts)
 * produces ticks on an absolute schedule; each tick carries its SCHEDULED
 * send time as `timestamp` (fractional epoch ms), which comes back in the
 * signal as `tick_timestamp`. HDR histograms (hdr-histogram-js, pure JS, µs):
 *  - produced→acked: scheduled send time → the probe signal's delivery
 *    report (KafkaSignalSink.write resolved: the broker has it). Measured
 *    from the schedule, so no stall is hidden (no coordinated omission).
 *  - in-service: the tick handed to JavaScript (the low-level consumer's
 *    consume() answers: bytes reach JavaScript) → the signal handed to the
 *    producer (KafkaSignalSink.write called and returned).
 *  - to-js: scheduled send time → the batch handed to JavaScript (the
 *    generator's pacing, the produce, the broker, the fetch).
 *  - tick produced: scheduled send time → the generator's own delivery
 *    report (the produce leg alone, measured in the generator).
 * The first `--warmup` seconds of each rate are not recorded. Kafka settings
 * come in two profiles (recorded in the result file): `tuned` (the headline
 * `results`; the --linger-ms/--gen-linger-ms/--fetch-wait-ms/--fetch-min-bytes/
 * --compression flags change it) and `low-linger` (no batching delay anywhere,
 * `low_linger_comparison`; full mode only). Prints a table and writes
 * bench/results/latency-<mode>.json.
 *   node dist/bench/latency.js [--quick] [--brokers H:P] [--rates 5000,20000,50000] [--duration S]
 *     [--warmup S] [--strategies N] [--pool N] [--partitions N] [--probe-every K] [--profiles tuned,low-linger]
 *     [--linger-ms MS] [--gen-linger-ms MS] [--fetch-wait-ms MS] [--fetch-min-bytes N] [--compression none|lz4|...] [--out FILE]
 */
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import kafkaClient, { type Message } from '@confluentinc/kafka-javascript';
import hdr from 'hdr-histogram-js';
import pino from 'pino';
import type { ServiceConfigInput } from '../src/config/service-config.js';
import { parseStrategyConfigs, type StrategyConfigInput } from '../src/config/strategy-config.js';
import type { Signal } from '../src/domain/signal.js';
import type { SignalSink } from '../src/ports.js';
import { createTopics, deleteTopics, uniqueName, useBroker } from './lib/broker.js';
import { startBenchRunner } from './lib/e2e-runner.js';
import type { LoadgenConfig, LoadgenDone } from './lib/latency-loadgen.js';
import { machine } from './lib/machine.js';
import { strategies } from './lib/workload.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const TRIVIAL = join(HERE, 'strategies', 'trivial.js');
const LOADGEN = join(HERE, 'lib', 'latency-loadgen.js');
const INSTRUMENTS = 1000;
const PROBE = 'probe';
const log = pino({ level: 'error' }, pino.destination(2));
const epochNow = (): number => performance.timeOrigin + performance.now();

type Histogram = ReturnType<typeof hdr.build>;
const histogram = (): Histogram => hdr.build({ useWebAssembly: false, bitBucketSize: 32, lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3, autoResize: true });

export interface Percentiles {
  count: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  p999_ms: number;
  max_ms: number;
  mean_ms: number;
}

export interface LatencyResult {
  /** tuned (the headline settings) or low-linger (no batching delay anywhere) */
  profile?: string;
  offered_rate: number;
  /** ticks the generator sent / (its last send − the first scheduled time) */
  generator_rate: number;
  /** ticks whose probe signal is acknowledged (probe signals × probe_every) / (the last acknowledgement − the first scheduled time) */
  achieved_rate: number;
  ticks: number;
  recorded: number;
  /** probe signals acknowledged (one per probe_every ticks unless the runner conflated or lost ticks) */
  acked: number;
  expected_signals: number;
  /** the last acknowledgement − the last tick's scheduled time */
  drain_ms: number;
  kept_up: boolean;
  generator_max_send_lag_ms: number;
  generator_mean_send_lag_ms: number;
  produced_to_acked: Percentiles;
  in_service: Percentiles;
  to_js: Percentiles;
  /** scheduled time → the generator's own delivery report (the produce leg alone), measured in the generator */
  tick_produced: Percentiles | null;
  /** samples below zero (clock disagreement between the two processes), recorded as 0 */
  negative_samples: number;
}

interface Phase {
  t0: number;
  period: number;
  count: number;
  warm: number;
  /** performance.now() when each tick reached JavaScript (consume() answered); NaN until then */
  handedAt: Float64Array;
  e2e: Histogram;
  inService: Histogram;
  toJs: Histogram;
  acked: number;
  lastAck: number;
  negative: number;
  progress: () => void;
}

let phase: Phase | undefined;
/** the ticks topic of the runner being measured */
let ticksTopic = '';

interface Profile {
  lingerMs: number;
  compression: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
  fetchWaitMs: number;
  fetchMinBytes: number;
  batchSize: number;
  librdkafka: Record<string, string | number | boolean>;
  generator: Record<string, string | number | boolean>;
}

function record(h: Histogram, ms: number, p: Phase): void {
  if (ms < 0) {
    p.negative++;
    ms = 0;
  }
  h.recordValue(Math.round(ms * 1000));
}

function percentiles(h: Histogram): Percentiles {
  const ms = (us: number): number => Math.round(us) / 1000;
  return {
    count: h.totalCount,
    p50_ms: ms(h.getValueAtPercentile(50)),
    p90_ms: ms(h.getValueAtPercentile(90)),
    p99_ms: ms(h.getValueAtPercentile(99)),
    p999_ms: ms(h.getValueAtPercentile(99.9)),
    max_ms: ms(h.maxValue),
    mean_ms: Math.round(h.mean) / 1000,
  };
}

/**
 * Observe the runner's ticks consumer: note when each tick reaches
 * JavaScript (the low-level consumer's consume() answer, which KafkaInput's
 * consume loop hands to its handler), by the `seq` header. The only
 * instrumentation on the input side; it costs one header read per tick.
 */
function instrumentConsumers(): void {
  const proto = kafkaClient.KafkaConsumer.prototype as unknown as { consume: (n: number, cb: (err: unknown, messages: Message[]) => void) => void };
  const original = proto.consume;
  proto.consume = function (this: unknown, n: number, cb: (err: unknown, messages: Message[]) => void): void {
    original.call(this, n, (err, messages) => {
      const p = phase;
      if (p !== undefined && !err && messages.length > 0) {
        const t = performance.now();
        for (const m of messages) {
          if (m.topic !== ticksTopic) continue;
          let seq = NaN;
          for (const h of m.headers ?? []) if (h['seq'] !== undefined) seq = Number(String(h['seq']));
          if (seq >= 0 && seq < p.count) p.handedAt[seq] = t;
        }
      }
      cb(err, messages);
    });
  };
}

/** The sink as the pipeline sees it: notes when each probe signal is handed to the producer and acknowledged. */
function observingSink(inner: SignalSink): SignalSink {
  return {
    name: inner.name,
    flush: () => inner.flush(),
    close: () => inner.close(),
    ...(inner.roundSettled === undefined ? {} : { roundSettled: (round: number) => inner.roundSettled!(round) }),
    write(signals: readonly Signal[], round?: number): Promise<void> {
      const handed = performance.now();
      const written = inner.write(signals, round);
      const p = phase;
      if (p === undefined) return written;
      const seqs: number[] = [];
      for (const s of signals) {
        if (s.strategy_id !== PROBE) continue;
        const seq = Math.round((s.tick_timestamp - p.t0) / p.period);
        if (!(seq >= 0 && seq < p.count)) continue;
        seqs.push(seq);
        const at = p.handedAt[seq]!;
        if (seq >= p.warm && at === at) {
          record(p.inService, handed - at, p);
          record(p.toJs, performance.timeOrigin + at - (p.t0 + seq * p.period), p);
        }
      }
      if (seqs.length === 0) return written;
      return written.then(() => {
        const now = epochNow();
        for (const seq of seqs) if (seq >= p.warm) record(p.e2e, now - (p.t0 + seq * p.period), p);
        p.acked += seqs.length;
        p.lastAck = now;
        p.progress();
      });
    },
  };
}

/** One offered rate: fork the generator, run the schedule, wait for every probe signal (or for progress to stop). */
async function runRate(o: {
  brokers: string[];
  topic: string;
  rate: number;
  seconds: number;
  warmupS: number;
  producer: Record<string, string | number | boolean>;
  probeEvery: number;
  /** ticks the probe saw before this rate (its counter runs on) */
  ticksBefore: number;
}): Promise<LatencyResult> {
  const count = Math.max(1, Math.round(o.rate * o.seconds));
  let wake: () => void = () => {};
  const p: Phase = {
    t0: 0,
    period: 1000 / o.rate,
    count,
    warm: Math.min(count - 1, Math.round(o.rate * o.warmupS)),
    handedAt: new Float64Array(count).fill(NaN),
    e2e: histogram(),
    inService: histogram(),
    toJs: histogram(),
    acked: 0,
    lastAck: 0,
    negative: 0,
    progress: () => wake(),
  };
  const child = fork(LOADGEN, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const messages: Record<string, unknown>[] = [];
  let onMessage: (() => void) | undefined;
  child.on('message', (m) => {
    messages.push(m as Record<string, unknown>);
    onMessage?.();
  });
  const next = async (): Promise<Record<string, unknown>> => {
    while (messages.length === 0) {
      await Promise.race([new Promise<void>((r) => (onMessage = r)), exited.then(() => Promise.reject(new Error('load generator exited')))]);
    }
    return messages.shift()!;
  };
  try {
    const cfg: LoadgenConfig = { t: 'config', brokers: o.brokers, topic: o.topic, rate: o.rate, count, warm: p.warm, instruments: INSTRUMENTS, seed: 7, producer: o.producer };
    child.send(cfg);
    await next(); // ready
    p.t0 = epochNow() + 300;
    phase = p;
    child.send({ t: 'start', t0: p.t0 });
    const done = (await next()) as unknown as LoadgenDone;
    if (done.error !== undefined) throw new Error(`load generator: ${done.error}`);
    // Wait for every probe signal; give up once nothing has been acknowledged for 10 s.
    let lastProgress = performance.now();
    const expected = Math.floor((o.ticksBefore + done.sent) / o.probeEvery) - Math.floor(o.ticksBefore / o.probeEvery);
    while (p.acked < expected && performance.now() - lastProgress < 10_000) {
      const before = p.acked;
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 500);
      });
      if (p.acked > before) lastProgress = performance.now();
    }
    phase = undefined;
    const lastScheduled = p.t0 + (count - 1) * p.period;
    const drain = p.lastAck - lastScheduled;
    const genRate = done.sent / Math.max(1e-9, (done.lastSendAt - p.t0) / 1000 + p.period / 1000);
    // In ticks: each probe signal stands for probe_every ticks.
    const achieved = (p.acked * o.probeEvery) / Math.max(1e-9, (p.lastAck - p.t0) / 1000);
    return {
      offered_rate: o.rate,
      generator_rate: Math.round(genRate),
      achieved_rate: Math.round(achieved),
      ticks: done.sent,
      recorded: p.e2e.totalCount,
      acked: p.acked,
      drain_ms: Math.round(drain * 10) / 10,
      // Kept up: every tick's signal acknowledged, the backlog gone within a second of the last tick, and the generator on schedule.
      expected_signals: expected,
      kept_up: p.acked === expected && drain < 1000 && genRate >= 0.98 * o.rate,
      generator_max_send_lag_ms: Math.round(done.maxSendLagMs * 1000) / 1000,
      generator_mean_send_lag_ms: Math.round(done.meanSendLagMs * 1000) / 1000,
      produced_to_acked: percentiles(p.e2e),
      in_service: percentiles(p.inService),
      to_js: percentiles(p.toJs),
      tick_produced: done.producedAcked ?? null,
      negative_samples: p.negative,
    };
  } finally {
    phase = undefined;
    if (child.exitCode === null && child.signalCode === null) {
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  }
}

function fmtMs(x: number): string {
  return x.toFixed(x < 10 ? 3 : 1);
}

async function main(): Promise<void> {
  // The machine is shared: the load around the run is recorded with the results.
  const loadBefore = loadavg().map((x) => Math.round(x * 100) / 100);
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      brokers: { type: 'string' },
      rates: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      strategies: { type: 'string' },
      pool: { type: 'string' },
      partitions: { type: 'string' },
      'linger-ms': { type: 'string' },
      'gen-linger-ms': { type: 'string' },
      'fetch-wait-ms': { type: 'string' },
      'fetch-min-bytes': { type: 'string' },
      'batch-size': { type: 'string' },
      compression: { type: 'string' },
      profiles: { type: 'string' },
      'probe-every': { type: 'string' },
    },
  });
  const quick = values.quick;
  const rates = (values.rates ?? (quick ? '2000,5000' : '5000,20000,50000')).split(',').map(Number);
  const seconds = Number(values.duration ?? (quick ? 5 : 20));
  const warmupS = Number(values.warmup ?? (quick ? 1 : 3));
  const count = Number(values.strategies ?? 100);
  // The probe signals on every k-th tick it sees (k = 1: one sample per tick); a known fraction 1/k of ticks is sampled.
  const probeEvery = Number(values['probe-every'] ?? 1);
  const pool = Number(values.pool ?? 2);
  const partitions = Number(values.partitions ?? 6);
  const profiles = (values.profiles ?? (quick ? 'tuned' : 'tuned,low-linger')).split(',').map((x) => x.trim()) as ('tuned' | 'low-linger')[];
  for (const p of profiles) if (p !== 'tuned' && p !== 'low-linger') throw new Error(`--profiles: unknown profile '${p}' (tuned, low-linger)`);
  // tuned (the flags change it): what measured best on the 2-core machine, i.e. the service's producer and
  // fetch defaults (linger 2 ms, lz4, fetch wait 10 ms), Nagle off, and the generator at linger 1 ms.
  // low-linger: no batching delay anywhere (linger 0, no compression, fetch wait 5 ms): lowest latency on an
  // idle machine, but more requests per tick, i.e. more CPU in the clients and the broker (the trade-off).
  const tuned: Profile = {
    lingerMs: Number(values['linger-ms'] ?? 2),
    compression: (values.compression ?? 'lz4') as Profile['compression'],
    fetchWaitMs: Number(values['fetch-wait-ms'] ?? 10),
    fetchMinBytes: Number(values['fetch-min-bytes'] ?? 1),
    batchSize: Number(values['batch-size'] ?? 1024),
    librdkafka: { 'socket.nagle.disable': true },
    generator: { 'linger.ms': Number(values['gen-linger-ms'] ?? 1), 'socket.nagle.disable': true },
  };
  const lowLinger: Profile = {
    lingerMs: 0,
    compression: 'none',
    fetchWaitMs: 5,
    fetchMinBytes: 1,
    batchSize: 1024,
    librdkafka: { 'socket.nagle.disable': true },
    generator: { 'linger.ms': 0, 'socket.nagle.disable': true },
  };

  const broker = useBroker(values.brokers);
  const entries: StrategyConfigInput[] = [
    ...strategies(count, 'trivial'),
    // One signal per tick: the latency sample.
    { id: PROBE, strategy_type: 'BenchTrivial', instruments: Array.from({ length: INSTRUMENTS }, (_, i) => 100_000 + i), parameters: { every: probeEvery } },
  ];
  /** the tuned profile: the headline figures */
  const results: LatencyResult[] = [];
  /** the same rates with no batching delay anywhere (low-linger), for the trade-off */
  const comparison: LatencyResult[] = [];
  const profileSettings: Record<string, unknown> = {};
  instrumentConsumers();
  try {
    for (const name of profiles) {
      const pr = name === 'tuned' ? tuned : lowLinger;
      // Fresh topics and group per profile: a new group reads its topic from the beginning.
      const prefix = uniqueName('bench-latency');
      const topics = { ticks: `${prefix}.market.ticks`, fills: `${prefix}.orders.filled`, deadLetter: `${prefix}.dlq`, paper: `${prefix}.paper.signals.raw` };
      const configInput: ServiceConfigInput = {
        strategyModules: [TRIVIAL],
        pool: { size: pool },
        log: { level: 'error' },
        supervision: { hangTimeoutMs: 60_000 },
        kafka: {
          brokers: broker.brokers,
          clientId: 'strategy-runner-bench',
          groupId: uniqueName('bench-latency-runner'),
          topics: { ticks: topics.ticks, fills: topics.fills, deadLetter: topics.deadLetter, signals: `${prefix}.{broker}.signals.raw` },
          consumer: { fetchWaitMaxMs: pr.fetchWaitMs, maxBatchSize: pr.batchSize, warmupMessages: 0 },
          producer: { lingerMs: pr.lingerMs, compression: pr.compression },
          consumerOptions: { 'fetch.min.bytes': pr.fetchMinBytes },
          librdkafka: pr.librdkafka,
        },
      };
      try {
        await createTopics(broker.brokers, [
          { topic: topics.ticks, partitions },
          { topic: topics.fills, partitions: 1 },
          { topic: topics.deadLetter, partitions: 1 },
          { topic: topics.paper, partitions: 3 },
        ]);
        ticksTopic = topics.ticks;
        const runner = await startBenchRunner({ config: configInput, baseDir: HERE, strategies: parseStrategyConfigs(entries, 'bench'), logger: log, wrapSink: observingSink });
        try {
          // The consumer holds its assignment before the clock starts.
          const t0 = Date.now();
          while (runner.input.assignment().length === 0 && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 50));
          const k = runner.config.kafka;
          profileSettings[name] = {
            runner_kafka: { consumer: k.consumer, producer: k.producer, librdkafka: k.librdkafka, consumerOptions: k.consumerOptions, producerOptions: k.producerOptions },
            generator_producer: { acks: -1, compression: 'none', 'queue.buffering.max.messages': 1_000_000, 'queue.buffering.max.kbytes': 1_048_576, ...pr.generator },
            dispatch: runner.config.dispatch,
          };
          let ticksBefore = 0;
          for (const rate of rates) {
            const r = { profile: name, ...(await runRate({ brokers: broker.brokers, topic: topics.ticks, rate, seconds, warmupS, producer: pr.generator, probeEvery, ticksBefore })) };
            ticksBefore += r.ticks;
            (name === 'tuned' ? results : comparison).push(r);
            process.stdout.write(
              `${name.padEnd(9)}${rate.toLocaleString('en-US').padStart(7)} ticks/s offered: generator ${r.generator_rate.toLocaleString('en-US')}/s, runner ${r.achieved_rate.toLocaleString('en-US')}/s, ` +
                `${r.acked.toLocaleString('en-US')}/${r.expected_signals.toLocaleString('en-US')} probe signals acked, drain ${r.drain_ms} ms, ${r.kept_up ? 'kept up' : 'DID NOT KEEP UP'}\n`,
            );
          }
        } finally {
          await runner.stop();
        }
      } finally {
        await deleteTopics(broker.brokers, Object.values(topics));
      }
    }
  } finally {
    broker.stop();
  }
  const settings = {
    rates,
    seconds_per_rate: seconds,
    warmup_s: warmupS,
    strategies: count,
    probe: `one BenchTrivial strategy on all 1,000 instruments, every=${probeEvery}: one signal (one latency sample) per ${probeEvery === 1 ? 'tick' : `${probeEvery} ticks`}`,
    probe_every: probeEvery,
    strategy: 'BenchTrivial (signal every 1,000th tick per strategy)',
    instruments: INSTRUMENTS,
    instruments_per_strategy: 50,
    pool,
    partitions,
    broker: { brokers: broker.brokers, started_by_bench: broker.started },
    profiles: profileSettings,
    generator_pacing: 'separate process; absolute schedule, timer wake-ups >= 1 ms; each tick stamped with its scheduled time',
    clock: 'epoch ms = performance.timeOrigin + performance.now() in each process',
  };

  process.stdout.write(`\n${'profile'.padEnd(9)}${'rate'.padStart(7)}  ${'measure'.padEnd(18)}${'count'.padStart(9)}${'p50'.padStart(9)}${'p90'.padStart(9)}${'p99'.padStart(9)}${'p99.9'.padStart(9)}${'max'.padStart(9)}   (ms)\n`);
  for (const r of [...results, ...comparison]) {
    const legs: [string, Percentiles | null][] = [['produced→acked', r.produced_to_acked], ['in-service', r.in_service], ['scheduled→JS', r.to_js], ['tick produced', r.tick_produced]];
    for (const [name, h] of legs) {
      if (h === null) continue;
      process.stdout.write(
        `${(r.profile ?? '').padEnd(9)}${r.offered_rate.toLocaleString('en-US').padStart(7)}  ${name.padEnd(18)}${String(h.count).padStart(9)}${fmtMs(h.p50_ms).padStart(9)}${fmtMs(h.p90_ms).padStart(9)}${fmtMs(h.p99_ms).padStart(9)}${fmtMs(h.p999_ms).padStart(9)}${fmtMs(h.max_ms).padStart(9)}\n`,
      );
    }
  }
  const out = values.out ?? join(HERE, '..', '..', 'bench', 'results', `latency-${quick ? 'quick' : 'full'}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ benchmark: 'latency', mode: quick ? 'quick' : 'full', at: new Date().toISOString(), machine: machine(), load_average: { before: loadBefore, after: loadavg().map((x) => Math.round(x * 100) / 100) }, settings, results, low_linger_comparison: comparison }, null, 2) + '\n');
  process.stdout.write(`results: ${out}\n`);
}

await main();
// librdkafka's native threads can hold the event loop briefly after disconnect: leave explicitly once everything is closed.
process.exit(0);
