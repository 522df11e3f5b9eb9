/**
 * End-to-end throughput with the real broker: ticks/s from a pre-loaded
 * `market.ticks` topic to acknowledged signals, for
 *  - runner: the live runner's components (KafkaInput → Pipeline →
 *    Supervisor threads → KafkaSignalSink, put together by LiveAssembly, the one Service runs), 100
 *    trivial strategies over 1,000 instruments (50 each), pool 2; timed from
 *    the first tick batch to the moment every tick's round is delivered (all
 *    its signals, and all earlier ones, acknowledged by the broker);
 *  - consume-lowlevel (and -parse): the client's low-level API, a
 *    `KafkaConsumer.consume(1024)` loop with `fetch.queue.backoff.ms: 10`
 *    (the default 1 s pauses the fetcher whenever its queue is full), counting
 *    the messages (and decoding and validating each as the runner does): what
 *    the binding allows at most, the baselines for the Kafka speed work;
 *  - consume-only: the same client library and the same consumer settings,
 *    reading the same topic and doing nothing with the messages; timed from
 *    the first batch to the last offset;
 *  - seeds: the seeds' design, one consumer per strategy, each in its own
 *    group reading the whole topic, filtering by its instruments and running
 *    the strategy inline (signals to one shared producer); timed from the
 *    first batch of any consumer to the last consumer's last offset and the
 *    last signal acknowledged.
 *  - runner-baseline (with --baseline-runner DIR): the same runner case run
 *    by another build of strategy-runner (a checkout of an earlier commit,
 *    built, with its node_modules), interleaved with this one: "today's
 *    runner" against this one in the same run, on the same topic.
 * Each run uses a fresh consumer group on the same pre-loaded topic. Prints a
 * table and writes bench/results/e2e-<mode>.json.
 *   node dist/bench/e2e.js [--quick] [--brokers H:P] [--ticks N] [--runs N] [--seeds 10,100]
 *                          [--seed-ticks N] [--strategies N] [--pool N] [--partitions N] [--out FILE]
 *                          [--baseline-runner DIR] [--measures consume-only,consume-lowlevel,...]
 */
import { StrategyHost } from '../src/strategies/engine/strategy-host.js';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseArgs } from 'node:util';
import kafkaClient, { KafkaJS, type Message } from '@confluentinc/kafka-javascript';
import pino from 'pino';
import { parseServiceConfig, type ServiceConfig, type ServiceConfigInput } from '../src/config/service-config.js';
import { parseStrategyConfigs } from '../src/config/strategy-config.js';
import { emptyPortfolio } from '../src/domain/portfolio.js';
import { signalId, type Signal, type SignalIntent } from '../src/domain/signal.js';
import { decodeTick } from '../src/domain/tick.js';
import type { InputEvent } from '../src/ports.js';
import { StrategyRegistry } from '../src/strategies/registry.js';
import { createTopics, deleteTopics, preload, topicSize, uniqueName, useBroker } from './lib/broker.js';
import { startBenchRunner } from './lib/e2e-runner.js';
import { machine, median } from './lib/machine.js';
import { strategies, tickLines } from './lib/workload.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const TRIVIAL = join(HERE, 'strategies', 'trivial.js');
const log = pino({ level: 'error' }, pino.destination(2));

// A full collection before each runner measure: otherwise the heap figure of one measure carries what the one
// before it left for the next major GC (a runner after the baseline showed up to 650 MB that were the baseline's).
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

export interface E2eResult {
  measure: 'consume-only' | 'consume-lowlevel' | 'consume-lowlevel-parse' | 'runner' | 'runner-baseline' | 'seeds';
  /** runner-baseline: the build that ran it (its directory and git commit) */
  build?: { dir: string; commit: string | null };
  /** runner: ticks_per_s / the runner-baseline median (with --baseline-runner) */
  ratio_to_baseline_runner?: number;
  /** runner: ticks_per_s / the consume-lowlevel-parse median */
  ratio_to_lowlevel_parse?: number;
  strategies: number;
  pool: number | null;
  ticks: number;
  /** median over runs */
  ticks_per_s: number;
  runs: number[];
  /** runner and seeds: signals acknowledged by the broker (last run) */
  signals: number;
  /** ticks_per_s / the consume-only median */
  ratio_to_consume_only: number | null;
  /** seeds: how far apart the consumers' first batches were (group joins), last run */
  start_spread_ms?: number;
  /** runner: pipeline counters of the last run */
  unrouted_ticks?: number;
  /** runner and runner-baseline: main-thread GC pauses over the timed window, as a share of it (median over runs) */
  gc_share?: number;
  /** runner and runner-baseline: the largest V8 heap used during the timed window, MB (median over runs) */
  heap_max_mb?: number;
}

interface Topics {
  ticks: string;
  fills: string;
  deadLetter: string;
  signals: string;
  paper: string;
  /** the seeds' topic: the first seed_ticks ticks of the same stream (each seed consumer reads all of it) */
  seedTicks: string;
}

/** Resolves with `done`; rejects when `progress()` has not moved for `stallMs` (a broken run must not hang). */
async function untilDone(what: string, done: Promise<void>, progress: () => number, stallMs = 60_000): Promise<void> {
  let last = progress();
  let since = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const watchdog = new Promise<never>((_, reject) => {
    timer = setInterval(() => {
      const now = progress();
      if (now !== last) {
        last = now;
        since = performance.now();
      } else if (performance.now() - since > stallMs) {
        reject(new Error(`${what}: no progress for ${stallMs / 1000} s (at ${now})`));
      }
    }, 500);
  });
  try {
    await Promise.race([done, watchdog]);
  } finally {
    clearInterval(timer);
  }
}

function serviceInput(brokers: string[], topics: Topics, groupId: string, pool: number, kafka: Partial<Record<'consumer' | 'producer' | 'librdkafka', Record<string, unknown>>>): ServiceConfigInput {
  return {
    strategyModules: [TRIVIAL],
    pool: { size: pool },
    log: { level: 'warn' },
    supervision: { hangTimeoutMs: 60_000 },
    kafka: {
      brokers,
      clientId: 'strategy-runner-bench',
      groupId,
      topics: { ticks: topics.ticks, fills: topics.fills, deadLetter: topics.deadLetter, signals: topics.signals },
      consumer: { warmupMessages: 0, ...(kafka.consumer ?? {}) },
      producer: { ...(kafka.producer ?? {}) },
      librdkafka: (kafka.librdkafka ?? {}) as Record<string, string | number | boolean>,
    },
  };
}

/** The ticks consumer's options exactly as KafkaInput builds them, for the baseline and the seeds. */
function consumerOf(c: ServiceConfig, groupId: string): KafkaJS.Consumer {
  const k = c.kafka;
  const kafka = new KafkaJS.Kafka({ kafkaJS: { brokers: k.brokers, clientId: k.clientId, logLevel: KafkaJS.logLevel.ERROR }, ...k.librdkafka });
  return kafka.consumer({
    kafkaJS: { groupId, fromBeginning: true, autoCommit: false },
    'fetch.wait.max.ms': k.consumer.fetchWaitMaxMs,
    'js.consumer.max.batch.size': k.consumer.maxBatchSize,
    'session.timeout.ms': k.consumer.sessionTimeoutMs,
    ...k.consumerOptions,
  });
}

/** (a) Consume-only: count the messages, nothing else. */
async function consumeOnly(c: ServiceConfig, topic: string, n: number): Promise<{ seconds: number }> {
  const consumer = consumerOf(c, uniqueName('bench-consume-only'));
  let count = 0;
  let t0 = 0;
  let t1 = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic] });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        if (t0 === 0) t0 = performance.now();
        count += batch.messages.length;
        if (count >= n && t1 === 0) {
          t1 = performance.now();
          done();
        }
      },
    });
    await untilDone('consume-only', finished, () => count);
  } finally {
    await consumer.disconnect();
  }
  return { seconds: (t1 - t0) / 1000 };
}

/**
 * (b) The low-level consume loop: `consume(1024)` until n messages, counted
 * (and, with `parse`, decoded and validated as the runner's input does).
 * Timed from the first non-empty answer to the n-th message.
 */
async function consumeLowLevel(c: ServiceConfig, topic: string, n: number, parse: boolean): Promise<{ seconds: number; bad: number }> {
  const k = c.kafka;
  // The package is CommonJS: its low-level classes are on the default export only.
  const consumer = new kafkaClient.KafkaConsumer(
    {
      'bootstrap.servers': k.brokers.join(','),
      'client.id': k.clientId,
      'group.id': uniqueName('bench-consume-lowlevel'),
      'enable.auto.commit': false,
      'fetch.wait.max.ms': k.consumer.fetchWaitMaxMs,
      'fetch.queue.backoff.ms': 10,
      ...(k.librdkafka as Record<string, string | number | boolean>),
    },
    { 'auto.offset.reset': 'earliest' },
  );
  await new Promise<void>((resolve, reject) => consumer.connect({ timeout: 30_000 }, (err) => (err ? reject(err) : resolve())));
  let count = 0;
  let bad = 0;
  let t0 = 0;
  try {
    consumer.subscribe([topic]);
    const deadline = Date.now() + 120_000;
    while (count < n) {
      if (Date.now() > deadline) throw new Error(`consume-lowlevel: ${count} of ${n} messages in 120 s`);
      const batch = await new Promise<Message[]>((resolve, reject) => consumer.consume(1024, (err, m) => (err ? reject(err) : resolve(m))));
      if (batch.length > 0 && t0 === 0) t0 = performance.now();
      if (parse) for (const m of batch) if (m.value === null || !decodeTick(m.value.toString('utf8')).ok) bad++;
      count += batch.length;
    }
    return { seconds: (performance.now() - t0) / 1000, bad };
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}

type StartRunner = typeof startBenchRunner;

/** Another build's bench runner (its dist/bench/lib/e2e-runner.js), and its git commit. */
async function baselineRunner(dir: string): Promise<{ start: StartRunner; build: { dir: string; commit: string | null } }> {
  const mod = (await import(pathToFileURL(join(resolve(dir), 'dist', 'bench', 'lib', 'e2e-runner.js')).href)) as { startBenchRunner: StartRunner };
  let commit: string | null = null;
  try {
    commit = execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  return { start: mod.startBenchRunner, build: { dir: resolve(dir), commit } };
}

/** The runner: from the first tick batch to every tick's round delivered (signals acknowledged). */
async function runner(
  input: ServiceConfigInput,
  n: number,
  configs: ReturnType<typeof parseStrategyConfigs>,
  start: StartRunner = startBenchRunner,
): Promise<{ seconds: number; signals: number; unrouted: number; gcShare: number; heapMaxMb: number }> {
  collect();
  // The main thread's GC pauses and the heap's high point, over the timed window only.
  let gcMs = 0;
  let heapMax = 0;
  const gc = new PerformanceObserver((list) => {
    // Entries arrive a task later: judged by when the pause began, not when it is reported.
    for (const e of list.getEntries()) if (t0 !== 0 && e.startTime >= t0 && (t1 === 0 || e.startTime <= t1)) gcMs += e.duration;
  });
  gc.observe({ entryTypes: ['gc'] });
  const heapTimer = setInterval(() => {
    if (t0 !== 0 && t1 === 0) heapMax = Math.max(heapMax, process.memoryUsage().heapUsed);
  }, 50);
  let t0 = 0;
  let t1 = 0;
  let delivered = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  async function* observe(events: AsyncIterable<InputEvent>): AsyncGenerator<InputEvent> {
    for await (const ev of events) {
      if (ev.kind !== 'ticks' || ev.warmup === true) {
        yield ev;
        continue;
      }
      if (t0 === 0) t0 = performance.now();
      const size = ev.ticks.length;
      const inner = ev.onDelivered;
      yield {
        ...ev,
        onDelivered: () => {
          inner?.();
          delivered += size;
          if (delivered >= n && t1 === 0) {
            t1 = performance.now();
            done();
          }
        },
      };
    }
  }
  const r = await start({ config: input, baseDir: HERE, strategies: configs, logger: log, wrapEvents: observe });
  try {
    await Promise.race([untilDone('runner', finished, () => delivered + r.pipeline.counters.ticks), r.done.then(() => Promise.reject(r.failure() ?? new Error('pipeline ended before every tick was delivered')))]);
  } finally {
    clearInterval(heapTimer);
    gc.disconnect();
    await r.stop();
  }
  return { seconds: (t1 - t0) / 1000, signals: r.sink.acknowledged, unrouted: r.pipeline.counters.unroutedTicks, gcShare: gcMs / (t1 - t0), heapMaxMb: heapMax / 2 ** 20 };
}

/** (b) The seeds' design: one consumer (own group) per strategy, filter, run the strategy inline, produce. */
async function seeds(c: ServiceConfig, topics: Topics, n: number, count: number, registry: StrategyRegistry): Promise<{ seconds: number; signals: number; spreadMs: number }> {
  const k = c.kafka;
  const configs = parseStrategyConfigs(strategies(count, 'trivial'), 'bench').configs;
  const producer = new KafkaJS.Kafka({ kafkaJS: { brokers: k.brokers, clientId: 'seeds', logLevel: KafkaJS.logLevel.ERROR }, ...k.librdkafka }).producer({
    kafkaJS: { acks: -1, idempotent: true, compression: k.producer.compression as KafkaJS.CompressionTypes },
    'linger.ms': k.producer.lingerMs,
    ...k.producerOptions,
  });
  await producer.connect();
  const consumers = configs.map(() => consumerOf(c, uniqueName('bench-seed')));
  const starts: number[] = [];
  let ended = 0;
  let tEnd = 0;
  let acked = 0;
  const sends: Promise<unknown>[] = [];
  let consumedTotal = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  try {
    await Promise.all(consumers.map((x) => x.connect()));
    await Promise.all(
      configs.map(async (cfg, i) => {
        const consumer = consumers[i]!;
        const r = registry.resolve(cfg);
        const host = new StrategyHost(cfg, emptyPortfolio(0), log);
        const instance = r.definition.create(r.params, host.context);
        const tctx = host.tickContext;
        const mine = new Set(cfg.instruments);
        let consumed = 0;
        await consumer.subscribe({ topics: [topics.seedTicks] });
        await consumer.run({
          eachBatch: async ({ batch }) => {
            if (consumed === 0) starts.push(performance.now());
            const out: KafkaJS.Message[] = [];
            for (const m of batch.messages) {
              if (m.value === null) continue;
              const d = decodeTick(m.value.toString('utf8'));
              if (!d.ok || !mine.has(d.tick.instrument_token)) continue;
              const res = instance.onTick(d.tick, tctx) as SignalIntent | SignalIntent[] | undefined | void;
              const intents = res === undefined || res === null ? [] : Array.isArray(res) ? res : [res];
              for (let e = 0; e < intents.length; e++) {
                for (const broker of cfg.brokers) {
                  const t = d.tick;
                  const s: Signal = {
                    signal_id: signalId(cfg.id, broker, t.instrument_token, t.timestamp, t.last_price, e),
                    strategy_id: cfg.id,
                    strategy_type: cfg.strategy_type,
                    instrument_token: t.instrument_token,
                    side: intents[e]!.side,
                    quantity: intents[e]!.quantity ?? 1,
                    price: t.last_price,
                    tick_timestamp: t.timestamp,
                    broker,
                  };
                  out.push({ key: String(s.instrument_token), value: JSON.stringify(s), headers: { 'strategy-id': s.strategy_id, 'signal-id': s.signal_id, 'strategy-type': s.strategy_type } });
                }
              }
            }
            consumed += batch.messages.length;
            consumedTotal += batch.messages.length;
            if (out.length > 0) sends.push(producer.send({ topic: topics.paper, messages: out }).then(() => (acked += out.length)));
            if (consumed >= n && consumed - batch.messages.length < n) {
              if (++ended === configs.length) done();
            }
          },
        });
      }),
    );
    await untilDone(`seeds x${count}`, finished, () => consumedTotal);
    await Promise.all(sends);
    tEnd = performance.now();
  } finally {
    await Promise.allSettled(consumers.map((x) => x.disconnect()));
    await producer.disconnect();
  }
  const t0 = Math.min(...starts);
  return { seconds: (tEnd - t0) / 1000, signals: acked, spreadMs: Math.round(Math.max(...starts) - t0) };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

async function main(): Promise<void> {
  // The machine is shared: the load around the run is recorded with the results.
  const loadBefore = loadavg().map((x) => Math.round(x * 100) / 100);
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      brokers: { type: 'string' },
      ticks: { type: 'string' },
      runs: { type: 'string' },
      strategies: { type: 'string' },
      pool: { type: 'string' },
      partitions: { type: 'string' },
      seeds: { type: 'string' },
      'seed-ticks': { type: 'string' },
      'batch-size': { type: 'string' },
      'fetch-wait-ms': { type: 'string' },
      'baseline-runner': { type: 'string' },
      measures: { type: 'string' },
    },
  });
  const ALL = ['consume-only', 'consume-lowlevel', 'consume-lowlevel-parse', 'runner', 'runner-baseline'] as const;
  const measures = new Set((values.measures ?? ALL.join(',')).split(',').map((m) => m.trim()));
  for (const m of measures) if (!(ALL as readonly string[]).includes(m)) throw new Error(`--measures: unknown measure '${m}' (known: ${ALL.join(', ')})`);
  const baseline = values['baseline-runner'] === undefined || !measures.has('runner-baseline') ? undefined : await baselineRunner(values['baseline-runner']);
  const quick = values.quick;
  const n = Number(values.ticks ?? (quick ? 100_000 : 500_000));
  const runs = Number(values.runs ?? (quick ? 1 : 3));
  const count = Number(values.strategies ?? 100);
  const pool = Number(values.pool ?? 2);
  const partitions = Number(values.partitions ?? 6);
  const seedCounts = (values.seeds ?? (quick ? '10' : '10,100')).split(',').filter((s) => s.trim() !== '').map(Number);
  // The seeds read the whole topic once per strategy: cap their ticks so that 100 consumers fit a 2-core run.
  const seedTicks = Number(values['seed-ticks'] ?? Math.min(n, quick ? 20_000 : 50_000));
  // ... and run the 100-consumer case once: it is two orders of magnitude away, and takes minutes.
  const seedRuns = (s: number): number => (s > 10 ? 1 : runs);
  const kafkaSettings = {
    consumer: { maxBatchSize: Number(values['batch-size'] ?? 1024), fetchWaitMaxMs: Number(values['fetch-wait-ms'] ?? 10) },
    producer: {},
    librdkafka: {},
  };

  const broker = useBroker(values.brokers);
  const results: E2eResult[] = [];
  const prefix = uniqueName('bench-e2e');
  const topics: Topics = {
    ticks: `${prefix}.market.ticks`,
    fills: `${prefix}.orders.filled`,
    deadLetter: `${prefix}.dlq`,
    signals: `${prefix}.{broker}.signals.raw`,
    paper: `${prefix}.paper.signals.raw`,
    seedTicks: `${prefix}.seeds.market.ticks`,
  };
  let settings: Record<string, unknown> = {};
  try {
    await createTopics(broker.brokers, [
      { topic: topics.ticks, partitions },
      { topic: topics.fills, partitions: 1 },
      { topic: topics.deadLetter, partitions: 1 },
      { topic: topics.paper, partitions: 3 },
      ...(seedCounts.length > 0 ? [{ topic: topics.seedTicks, partitions }] : []),
    ]);
    // Not kept past the pre-load: the heap figures of the runner measures are the runner's, not the workload's.
    let lines: string[] | undefined = tickLines(n);
    const preloadS = await preload(broker.brokers, topics.ticks, lines);
    const held = await topicSize(broker.brokers, topics.ticks);
    if (held !== n) throw new Error(`pre-load: the topic holds ${held} messages, expected ${n}`);
    process.stdout.write(`pre-loaded ${fmt(n)} ticks into ${topics.ticks} (${partitions} partitions) in ${preloadS.toFixed(1)} s\n`);
    if (seedCounts.length > 0) {
      await preload(broker.brokers, topics.seedTicks, lines.slice(0, seedTicks));
      const seedHeld = await topicSize(broker.brokers, topics.seedTicks);
      if (seedHeld !== seedTicks) throw new Error(`pre-load: the seeds' topic holds ${seedHeld} messages, expected ${seedTicks}`);
    }
    lines = undefined;
    const configs = parseStrategyConfigs(strategies(count, 'trivial'), 'bench');
    const baseInput = (group: string): ServiceConfigInput => serviceInput(broker.brokers, topics, group, pool, kafkaSettings);
    const compiled = parseServiceConfig(baseInput('x'), 'bench', HERE);
    settings = {
      ticks: n,
      runs,
      strategies: count,
      strategy: 'BenchTrivial (signal every 1,000th tick per strategy)',
      instruments: 1000,
      instruments_per_strategy: 50,
      pool,
      partitions,
      seeds: seedCounts,
      seed_ticks: seedTicks,
      seed_runs: Object.fromEntries(seedCounts.map((s) => [s, seedRuns(s)])),
      seed_design: 'one consumer per strategy, each in its own group reading the whole seeds topic, same consumer settings; decode, filter by instruments, strategy inline; signals to one shared producer (one send per batch), acks=all',
      preload_s: Number(preloadS.toFixed(2)),
      broker: { brokers: broker.brokers, started_by_bench: broker.started },
      kafka: { consumer: compiled.kafka.consumer, producer: compiled.kafka.producer, librdkafka: compiled.kafka.librdkafka, consumerOptions: compiled.kafka.consumerOptions, producerOptions: compiled.kafka.producerOptions },
      dispatch: compiled.dispatch,
      supervision: { maxQueuedBatches: compiled.supervision.maxQueuedBatches, overload: compiled.supervision.overload },
    };

    const base: number[] = [];
    const low: number[] = [];
    const lowParse: number[] = [];
    const run: number[] = [];
    const runBase: number[] = [];
    let last = { signals: 0, unrouted: 0 };
    let lastBase = { signals: 0, unrouted: 0 };
    const mem = { runner: { gc: [] as number[], heap: [] as number[] }, base: { gc: [] as number[], heap: [] as number[] } };
    for (let i = 0; i < runs; i++) {
      // Interleaved, so that drift on a shared machine hits each alike.
      if (measures.has('consume-only')) {
        const b = await consumeOnly(compiled, topics.ticks, n);
        base.push(Math.round(n / b.seconds));
        process.stdout.write(`  run ${i + 1}: consume-only ${fmt(n / b.seconds)} ticks/s\n`);
      }
      for (const parse of [false, true]) {
        if (!measures.has(parse ? 'consume-lowlevel-parse' : 'consume-lowlevel')) continue;
        const l = await consumeLowLevel(compiled, topics.ticks, n, parse);
        if (l.bad > 0) throw new Error(`consume-lowlevel-parse: ${l.bad} ticks failed to decode`);
        (parse ? lowParse : low).push(Math.round(n / l.seconds));
        process.stdout.write(`  run ${i + 1}: consume-lowlevel${parse ? '-parse' : '      '} ${fmt(n / l.seconds)} ticks/s\n`);
      }
      if (baseline !== undefined) {
        const x = await runner(baseInput(uniqueName('bench-runner-baseline')), n, configs, baseline.start);
        runBase.push(Math.round(n / x.seconds));
        lastBase = x;
        mem.base.gc.push(x.gcShare);
        mem.base.heap.push(x.heapMaxMb);
        process.stdout.write(`  run ${i + 1}: runner-baseline (${baseline.build.commit ?? baseline.build.dir}) ${fmt(n / x.seconds)} ticks/s (${fmt(x.signals)} signals acknowledged; GC ${(x.gcShare * 100).toFixed(1)}%, heap ≤ ${x.heapMaxMb.toFixed(0)} MB)\n`);
      }
      if (measures.has('runner')) {
        const x = await runner(baseInput(uniqueName('bench-runner')), n, configs);
        run.push(Math.round(n / x.seconds));
        last = x;
        mem.runner.gc.push(x.gcShare);
        mem.runner.heap.push(x.heapMaxMb);
        process.stdout.write(`  run ${i + 1}: runner       ${fmt(n / x.seconds)} ticks/s (${fmt(x.signals)} signals acknowledged; GC ${(x.gcShare * 100).toFixed(1)}%, heap ≤ ${x.heapMaxMb.toFixed(0)} MB)\n`);
      }
    }
    const baseMedian = base.length > 0 ? median(base) : undefined;
    const ratio = (v: number): number | null => (baseMedian === undefined ? null : v / baseMedian);
    if (baseMedian !== undefined) results.push({ measure: 'consume-only', strategies: 0, pool: null, ticks: n, ticks_per_s: baseMedian, runs: base, signals: 0, ratio_to_consume_only: 1 });
    for (const [measure, rates] of [['consume-lowlevel', low], ['consume-lowlevel-parse', lowParse]] as const) {
      if (rates.length > 0) results.push({ measure, strategies: 0, pool: null, ticks: n, ticks_per_s: median(rates), runs: rates, signals: 0, ratio_to_consume_only: ratio(median(rates)) });
    }
    // A runner measure's row: the median of its runs, the last run's counts, the median GC share and heap high point.
    const runnerRow = (measure: 'runner' | 'runner-baseline', rates: number[], lastRun: { signals: number; unrouted: number }, m: { gc: number[]; heap: number[] }): E2eResult => ({
      measure,
      strategies: count,
      pool,
      ticks: n,
      ticks_per_s: median(rates),
      runs: rates,
      signals: lastRun.signals,
      ratio_to_consume_only: ratio(median(rates)),
      unrouted_ticks: lastRun.unrouted,
      gc_share: round3(median(m.gc)),
      heap_max_mb: Math.round(median(m.heap)),
    });
    if (baseline !== undefined) results.push({ ...runnerRow('runner-baseline', runBase, lastBase, mem.base), build: baseline.build });
    if (run.length > 0) {
      const r = runnerRow('runner', run, last, mem.runner);
      if (lowParse.length > 0) r.ratio_to_lowlevel_parse = median(run) / median(lowParse);
      if (runBase.length > 0) r.ratio_to_baseline_runner = median(run) / median(runBase);
      results.push(r);
      if (r.ratio_to_lowlevel_parse !== undefined) process.stdout.write(`runner against consume-lowlevel-parse: ${(r.ratio_to_lowlevel_parse * 100).toFixed(1)}%\n`);
      if (r.ratio_to_baseline_runner !== undefined) process.stdout.write(`runner against runner-baseline: ${r.ratio_to_baseline_runner.toFixed(2)}×\n`);
    }

    const registry = await StrategyRegistry.create([TRIVIAL], HERE);
    for (const s of seedCounts) {
      const rates: number[] = [];
      let lastSeeds = { signals: 0, spreadMs: 0 };
      for (let i = 0; i < seedRuns(s); i++) {
        const x = await seeds(compiled, topics, seedTicks, s, registry);
        rates.push(Math.round(seedTicks / x.seconds));
        lastSeeds = x;
        process.stdout.write(`  run ${i + 1}: seeds x${s}    ${fmt(seedTicks / x.seconds)} ticks/s (${fmt(x.signals)} signals, first batches ${x.spreadMs} ms apart)\n`);
      }
      results.push({
        measure: 'seeds',
        strategies: s,
        pool: null,
        ticks: seedTicks,
        ticks_per_s: median(rates),
        runs: rates,
        signals: lastSeeds.signals,
        ratio_to_consume_only: ratio(median(rates)),
        start_spread_ms: lastSeeds.spreadMs,
      });
    }
  } finally {
    await deleteTopics(broker.brokers, Object.values(topics).filter((t) => !t.includes('{broker}')));
    broker.stop();
  }

  process.stdout.write(`\n${'measure'.padEnd(24)}${'strategies'.padStart(11)}${'pool'.padStart(6)}${'ticks'.padStart(10)}${'ticks/s'.padStart(12)}${'vs consume-only'.padStart(17)}${'signals'.padStart(10)}\n`);
  for (const r of results) {
    process.stdout.write(
      `${r.measure.padEnd(24)}${String(r.strategies).padStart(11)}${String(r.pool ?? '-').padStart(6)}${fmt(r.ticks).padStart(10)}${fmt(r.ticks_per_s).padStart(12)}${(r.ratio_to_consume_only === null ? '-' : `${(r.ratio_to_consume_only * 100).toFixed(1)}%`).padStart(17)}${fmt(r.signals).padStart(10)}\n`,
    );
  }
  const out = values.out ?? join(HERE, '..', '..', 'bench', 'results', `e2e-${quick ? 'quick' : 'full'}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ benchmark: 'e2e', mode: quick ? 'quick' : 'full', at: new Date().toISOString(), machine: machine(), load_average: { before: loadBefore, after: loadavg().map((x) => Math.round(x * 100) / 100) }, settings, results }, null, 2) + '\n');
  process.stdout.write(`results: ${out}\n`);
}

await main();
// librdkafka's native threads can hold the event loop briefly after disconnect: leave explicitly once everything is closed.
process.exit(0);
