/**
 * Exactly-once delivery against at-least-once (kafka.delivery), both with
 * kafka.shards on and the same shard count, so that delivery is the only
 * difference. Real `strategy-runner run` processes (the built CLI, one
 * configuration file each, strategies from a file: bench/lib/scale-out-runner.ts),
 * one runner holding every shard, against the broker.
 *
 * Per configuration (`--configs`: at-least-once, exactly-once:<commitIntervalMs>)
 * and run, a new deployment: its own ticks and signals topics and group, a
 * runner, and a `read_committed` reader of its signals (bench/lib/exactly-once-reader.ts).
 * Then, for each offered rate (`--rates`), a steady tick flow from the
 * latency benchmark's load generator (a child process; each tick stamped
 * with its scheduled send time): `--warmup` seconds not recorded, then
 * `--duration` seconds measured, then the drain.
 *  - latency: a tick's scheduled send time → its signal visible to the
 *    read_committed reader (p50, p99, p99.9, max), ticks after the warm-up.
 *  - throughput, over the measured window: ticks the runner read per second
 *    (/status consumer.fetch.messages), signals visible per second, the
 *    runner's lag at the window's end (the ticks topic's end offsets − the
 *    least position any shard delivered, in ticks and in ms of the flow), the
 *    drain (the last tick's schedule → its phase's last signal visible), and
 *    whether every signal the runner emitted (/status totals) became
 *    visible, once. Exactly-once: transactions per second over the window,
 *    their mean duration and how many were in flight on average (against
 *    kafka.transactions.concurrency), from /status transactions.
 *  - CPU: the runner process's (/proc/PID/stat, user + system, every
 *    thread: librdkafka's included) per tick read, and the broker's when it
 *    runs on this host (found by its listening port, or `--broker-pid`).
 * `kept up`: the generator on schedule, the lag at the window's end under a
 * second, every signal visible once, and the drain under 1 s + 2 commit intervals.
 * Before the runs, an unrecorded deployment warms the broker up (`--broker-warmup`,
 * 20 s in full mode; a freshly started broker's JVM is slow for its first minute).
 * The configurations are interleaved within each run (and their order
 * rotated from run to run), so a noisy host hits each alike; each figure is
 * the median over the runs with the spread (min-max).
 * Prints tables and writes bench/results/exactly-once-<mode>.json.
 *   node dist/bench/exactly-once.js [--quick] [--brokers H:P] [--configs at-least-once,exactly-once:20,exactly-once:100,exactly-once:500]
 *        (exactly-once:<commitIntervalMs>[:<transactions.concurrency>])
 *        [--rates 5000,10000,20000] [--runs N] [--duration S] [--warmup S] [--strategies N] [--every K] [--shards N]
 *        [--partitions N] [--pool N] [--overload hold|conflate] [--max-rounds N] [--broker-pid PID] [--broker-warmup S] [--keep-logs] [--out FILE]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ServiceConfigInput } from '../src/config/service-config.js';
import type { StrategyConfigInput } from '../src/config/strategy-config.js';
import type { TransactionsStatus } from '../src/transport/kafka/transactions/transactions-status.js';
import { createTopics, deleteTopics, kafkaClient, uniqueName, useBroker } from './lib/broker.js';
import { TickLoad } from './lib/exactly-once-load.js';
import { epochNow, SignalReader, type Percentiles, type ReaderPhase } from './lib/exactly-once-reader.js';
import { machine, median } from './lib/machine.js';
import { runnerConfig, untilConverged } from './lib/scale-out-deployment.js';
import { hostCpuMs, RunnerProcess, type RunnerStatus } from './lib/scale-out-runner.js';
import { balancedIds, strategies } from './lib/workload.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const MODULES = [join(HERE, 'strategies', 'trivial.js')];
const INSTRUMENTS = 1000;
/** the signals topic's partitions (the runner's strategies publish to broker `paper`) */
const SIGNAL_PARTITIONS = 3;
/** the load generator's producer: the latency benchmark's tuned profile */
const GENERATOR_PRODUCER = { 'linger.ms': 1, 'socket.nagle.disable': true };

interface DeliveryConfig {
  /** as given: at-least-once, exactly-once:100 */
  label: string;
  delivery: 'at-least-once' | 'exactly-once';
  /** kafka.transactions.commitIntervalMs (exactly-once only) */
  commitIntervalMs: number | null;
  /** kafka.transactions.concurrency (exactly-once; null: the runner's default) */
  concurrency: number | null;
}

interface Settings {
  quick: boolean;
  brokers: string[];
  configs: DeliveryConfig[];
  rates: number[];
  runs: number;
  durationS: number;
  warmupS: number;
  strategies: number;
  every: number;
  shards: number;
  partitions: number;
  pool: number;
  overload: 'hold' | 'conflate';
  brokerPid: number | undefined;
  /** seconds of an unrecorded deployment before the runs (null: the default for the mode and the broker) */
  brokerWarmupS: number | null;
  /** kafka.transactions.maxRounds of every exactly-once configuration (null: the runner's default, 100) */
  maxRounds: number | null;
}

/** What the benchmark reads of a runner's /status (`totals` is the supervisor's, at the top of the document). */
type EoStatus = RunnerStatus & {
  totals?: Record<string, number>;
  transactions?: TransactionsStatus;
  pipeline?: { rounds_in_flight: number; pending_deliveries: number };
  producer?: { in_flight_signals: number };
  consumer?: { queued_batches?: number };
};

/** One offered rate in one deployment. */
interface PhaseRun {
  run: number;
  offered_rate: number;
  /** ticks the generator sent / (its last send − the first scheduled time) */
  generator_rate: number;
  generator_max_send_lag_ms: number;
  ticks: number;
  /** scheduled time → visible to read_committed, ticks after the warm-up */
  latency: Percentiles;
  window_s: number;
  /** ticks the runner read over the window, per second */
  consumed_ticks_per_s: number;
  /** the pipeline's dispatch rounds per second over the window (exactly-once: maxRounds settled rounds request a commit cycle) */
  rounds_per_s: number;
  /** signals the reader saw over the window, per second */
  visible_signals_per_s: number;
  /** ticks in the topic not yet processed by every shard (the end offsets − the least delivered position, per partition), at the window's start and end */
  lag_start_ticks: number;
  lag_end_ticks: number;
  /** lag_end_ticks in ms of the flow */
  lag_end_ms: number;
  /** signals emitted by the window's end and not yet visible then */
  signal_backlog_end: number;
  /** the last tick's scheduled time → the last signal of the phase visible */
  drain_ms: number;
  /** everything read and every emitted signal visible before the drain gave up */
  drained: boolean;
  /** signals the runner's strategies emitted for this phase (supervisor totals) */
  emitted_signals: number;
  visible_signals: number;
  duplicate_signals: number;
  /** emitted − distinct visible */
  missing_signals: number;
  /** ticks conflated or dropped by the supervisor over the phase */
  shed_ticks: number;
  /** the runner's CPU over the window per tick read, µs, and in cores */
  cpu_us_per_tick: number;
  runner_cores: number;
  /** the broker's CPU over the window per tick (null: the broker's process is not on this host) */
  broker_cpu_us_per_tick: number | null;
  broker_cores: number | null;
  /** the whole host's busy cores over the window (/proc/stat), and the parts of it: this benchmark's process (the signal reader), the load generator */
  host_busy_cores: number;
  bench_cores: number;
  generator_cores: number | null;
  load_1m: number;
  /** at the window's end: rounds dispatched and not settled, signals awaiting the broker's acknowledgement (at-least-once), tick batches queued before the pipeline */
  end_state: { rounds_in_flight: number | null; pending_deliveries: number | null; in_flight_signals: number | null; queued_batches: number | null };
  /** exactly-once, from /status transactions */
  txn: {
    /** transactions committed per second over the window */
    commits_per_s: number;
    /** their mean duration, begin → the broker's answer (the shards' committed time over the window / their count) */
    mean_commit_ms: number;
    /** transactions in flight on average over the window (the committed time / the window): against kafka.transactions.concurrency */
    busy_slots: number;
    signals_per_commit: number;
    /** over the whole phase */
    aborted: number;
    /** the runner's percentiles over its last 1,024 transactions, read at the window's end (earlier phases may be in them) */
    status_commit_ms: { p50: number; p99: number; max: number };
    /** the oldest signal waiting for its transaction at the window's end */
    max_open_age_ms: number;
  } | null;
  kept_up: boolean;
  /** why not, when not */
  not_kept_up: string[];
  negative_samples: number;
}

interface DeploymentRun {
  config: string;
  run: number;
  /** spawn → every shard held and live (and, exactly-once, every shard's producer ready) */
  startup_ms: number;
  runner_error_lines: string[];
  /** /status transactions at the end (exactly-once) */
  transactions: Omit<TransactionsStatus, 'shards'> | null;
  reader: { total: number; stray: number; malformed: number };
}

interface Stat {
  median: number;
  min: number;
  max: number;
}

interface Row {
  config: string;
  delivery: DeliveryConfig['delivery'];
  commit_interval_ms: number | null;
  offered_rate: number;
  runs: number;
  kept_up_runs: number;
  p50_ms: Stat;
  p99_ms: Stat;
  p999_ms: Stat;
  max_ms: Stat;
  consumed_ticks_per_s: Stat;
  visible_signals_per_s: Stat;
  lag_end_ms: Stat;
  drain_ms: Stat;
  cpu_us_per_tick: Stat;
  broker_cpu_us_per_tick: Stat | null;
  mean_commit_ms: Stat | null;
  commits_per_s: Stat | null;
  samples: PhaseRun[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const r1 = (x: number): number => Math.round(x * 10) / 10;
const r2 = (x: number): number => Math.round(x * 100) / 100;

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function log(s: string): void {
  process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);
}

function stat(xs: readonly number[]): Stat {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}

function statOrNull(xs: readonly (number | null)[]): Stat | null {
  const v = xs.filter((x): x is number => x !== null);
  return v.length === 0 ? null : stat(v);
}

/** Clock ticks per second of /proc/PID/stat. */
const CLK_TCK = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** A process's CPU time so far (user + system, every thread), ms; undefined when it cannot be read. */
function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** The broker's process when it listens on this host (`ss`); undefined otherwise. */
function findBrokerPid(brokers: readonly string[]): number | undefined {
  const m = /^(127\.0\.0\.1|localhost|\[::1\]):(\d+)$/.exec(brokers[0] ?? '');
  if (m === null) return undefined;
  try {
    const out = execFileSync('ss', ['-Hltnp', `sport = :${m[2]}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const pid = /pid=(\d+)/.exec(out);
    return pid === null ? undefined : Number(pid[1]);
  } catch {
    return undefined;
  }
}

/**
 * Light strategies (BenchTrivial, a signal every `every`-th tick it sees, 50
 * of 1,000 instruments each) with ids chosen so that every shard has the same
 * number of them: each shard's transactions carry a like share of the signals.
 */
function balancedStrategies(count: number, every: number, shards: number): StrategyConfigInput[] {
  const ids = balancedIds(count, shards, 'e');
  return strategies(count, 'trivial', INSTRUMENTS).map((c, i) => ({ ...c, id: ids[i]!, parameters: { every } }));
}

/** What is read at each mark of a phase. */
interface Mark {
  t: number;
  /** the ticks topic's end offsets, read just before the status */
  ends: Map<number, number>;
  st: EoStatus;
  cpu: number;
  broker: number | undefined;
  /** this process's CPU time, ms */
  bench: number;
  generator: number | undefined;
  host: { busy: number; total: number };
  readerTotal: number;
  phaseVisible: number;
}

/** What a phase reads through: the runner, the reader, the ticks topic's end offsets. */
interface Probe {
  runner: RunnerProcess;
  reader: SignalReader;
  ends: () => Promise<Map<number, number>>;
  brokerPid: number | undefined;
  /** the load generator of the phase running */
  generatorPid?: number | undefined;
}

async function mark(p: Probe, phase: ReaderPhase | undefined): Promise<Mark> {
  // First: at the window's end the generator has sent its last tick and exits once the broker acknowledged it.
  const generator = processCpuMs(p.generatorPid);
  const ends = await p.ends();
  const st = (await p.runner.status(5000)) as EoStatus | undefined;
  if (st === undefined) throw new Error(`runner ${p.runner.name} did not answer /status${p.runner.alive ? '' : ` (exited ${p.runner.exit?.code ?? p.runner.exit?.signal})\n${p.runner.tail()}`}`);
  const own = process.cpuUsage();
  return {
    t: epochNow(),
    ends,
    st,
    cpu: p.runner.cpuMs() ?? 0,
    broker: processCpuMs(p.brokerPid),
    bench: (own.user + own.system) / 1000,
    generator,
    host: hostCpuMs(),
    readerTotal: p.reader.total,
    phaseVisible: phase?.visible ?? 0,
  };
}

const fetched = (m: Mark): number => m.st.consumer?.fetch?.messages ?? 0;
const totals = (m: Mark, k: string): number => m.st.totals?.[k] ?? 0;
const signalsCommitted = (m: Mark): number => (m.st.transactions?.shards ?? []).reduce((a, s) => a + s.signals_committed, 0);
/** the shards' committed transactions' time so far, ms (each shard's mean × its count) */
const committedMs = (m: Mark): number => (m.st.transactions?.shards ?? []).reduce((a, s) => a + s.avg_commit_ms * s.committed, 0);

/** Ticks in the topic not yet processed by every shard: per partition, the end offset − the least delivered position of any shard. */
function lagOf(m: Mark): number {
  const shards = m.st.shards?.shards ?? [];
  let lag = 0;
  for (const [partition, end] of m.ends) {
    let least = end;
    for (const sh of shards) least = Math.min(least, sh.partitions.find((x) => x.partition === partition)?.delivered_offset ?? 0);
    lag += end - least;
  }
  return lag;
}

async function runPhase(s: Settings, cfg: DeliveryConfig, run: number, rate: number, ticksTopic: string, probe: Probe): Promise<PhaseRun> {
  const reader = probe.reader;
  const count = Math.max(1, Math.round(rate * (s.warmupS + s.durationS)));
  const warm = Math.min(count - 1, Math.round(rate * s.warmupS));
  const period = 1000 / rate;
  const load = await TickLoad.prepare({ brokers: s.brokers, topic: ticksTopic, rate, count, warm, instruments: INSTRUMENTS, seed: 7, producer: GENERATOR_PRODUCER });
  probe.generatorPid = load.pid;
  try {
    const before = await mark(probe, undefined);
    const t0 = epochNow() + 300;
    const phase = reader.begin(t0, period, count, warm);
    load.start(t0);
    await sleep(Math.max(0, t0 + s.warmupS * 1000 - epochNow()));
    const w0 = await mark(probe, phase);
    await sleep(Math.max(0, t0 + (s.warmupS + s.durationS) * 1000 - epochNow()));
    const w1 = await mark(probe, phase);
    const load1 = loadavg()[0]!;
    const done = await load.done();
    if (done.failed > 0) throw new Error(`the load generator lost ${done.failed} ticks`);
    // The drain: every tick read, and every signal emitted visible, for 3 polls in a row (a round may still be
    // in the threads when the counts first agree); give up after 15 s without progress.
    let end = w1;
    let agreed = 0;
    let drained = false;
    let progressAt = Date.now();
    let last = '';
    while (Date.now() - progressAt < 15_000) {
      await sleep(100);
      end = await mark(probe, phase);
      const emitted = totals(end, 'signals') - totals(before, 'signals');
      const read = fetched(end) - fetched(before);
      const now = `${read}/${phase.visible}`;
      if (now !== last) {
        last = now;
        progressAt = Date.now();
      }
      if (read >= done.acked && phase.visible - phase.duplicates >= emitted && (end.st.transactions?.waiting_signals ?? 0) === 0) {
        if (++agreed >= 3) {
          drained = true;
          break;
        }
      } else agreed = 0;
    }
    const windowS = (w1.t - w0.t) / 1000;
    const consumed = fetched(w1) - fetched(w0);
    const cpu = w1.cpu - w0.cpu;
    const brokerCpu = w0.broker === undefined || w1.broker === undefined ? null : w1.broker - w0.broker;
    const emitted = totals(end, 'signals') - totals(before, 'signals');
    const lastScheduled = t0 + (count - 1) * period;
    const lagEnd = lagOf(w1);
    const tx0 = w0.st.transactions;
    const tx1 = w1.st.transactions;
    const txEnd = end.st.transactions;
    const commits = tx0 !== undefined && tx1 !== undefined ? tx1.committed - tx0.committed : 0;
    const commitMs = committedMs(w1) - committedMs(w0);
    const genRate = done.sent / Math.max(1e-9, (done.lastSendAt - t0) / 1000 + period / 1000);
    const x: PhaseRun = {
      run,
      offered_rate: rate,
      generator_rate: Math.round(genRate),
      generator_max_send_lag_ms: r1(done.maxSendLagMs),
      ticks: done.sent,
      latency: phase.percentiles(),
      window_s: r2(windowS),
      consumed_ticks_per_s: Math.round(consumed / windowS),
      rounds_per_s: Math.round((totals(w1, 'rounds') - totals(w0, 'rounds')) / windowS),
      visible_signals_per_s: Math.round((w1.readerTotal - w0.readerTotal) / windowS),
      lag_start_ticks: lagOf(w0),
      lag_end_ticks: lagEnd,
      lag_end_ms: Math.round((lagEnd / rate) * 1000),
      signal_backlog_end: totals(w1, 'signals') - totals(before, 'signals') - w1.phaseVisible,
      drain_ms: Math.round(phase.lastAt - lastScheduled),
      drained,
      emitted_signals: emitted,
      visible_signals: phase.visible,
      duplicate_signals: phase.duplicates,
      missing_signals: emitted - (phase.visible - phase.duplicates),
      shed_ticks: totals(end, 'conflated_ticks') + totals(end, 'dropped_ticks') - totals(before, 'conflated_ticks') - totals(before, 'dropped_ticks'),
      cpu_us_per_tick: r1((cpu * 1000) / Math.max(1, consumed)),
      runner_cores: r2(cpu / (windowS * 1000)),
      broker_cpu_us_per_tick: brokerCpu === null ? null : r1((brokerCpu * 1000) / Math.max(1, consumed)),
      broker_cores: brokerCpu === null ? null : r2(brokerCpu / (windowS * 1000)),
      host_busy_cores: r2(((w1.host.busy - w0.host.busy) / Math.max(1, w1.host.total - w0.host.total)) * cpus().length),
      bench_cores: r2((w1.bench - w0.bench) / (windowS * 1000)),
      generator_cores: w0.generator === undefined || w1.generator === undefined ? null : r2((w1.generator - w0.generator) / (windowS * 1000)),
      end_state: {
        rounds_in_flight: w1.st.pipeline?.rounds_in_flight ?? null,
        pending_deliveries: w1.st.pipeline?.pending_deliveries ?? null,
        in_flight_signals: w1.st.producer?.in_flight_signals ?? null,
        queued_batches: w1.st.consumer?.queued_batches ?? null,
      },
      load_1m: r2(load1),
      txn:
        tx0 === undefined || tx1 === undefined || txEnd === undefined
          ? null
          : {
              commits_per_s: r1(commits / windowS),
              mean_commit_ms: r1(commitMs / Math.max(1, commits)),
              busy_slots: r2(commitMs / (windowS * 1000)),
              signals_per_commit: r1((signalsCommitted(w1) - signalsCommitted(w0)) / Math.max(1, commits)),
              aborted: txEnd.aborted - (before.st.transactions?.aborted ?? 0),
              status_commit_ms: { p50: tx1.commit_ms.p50, p99: tx1.commit_ms.p99, max: tx1.commit_ms.max },
              max_open_age_ms: tx1.max_open_age_ms,
            },
      kept_up: false,
      not_kept_up: [],
      negative_samples: phase.negative,
    };
    const why = x.not_kept_up;
    if (x.generator_rate < 0.98 * rate) why.push(`the generator sent ${fmt(x.generator_rate)}/s`);
    if (x.lag_end_ms > 1000) why.push(`lag ${fmt(x.lag_end_ticks)} ticks (${fmt(x.lag_end_ms)} ms) at the window's end`);
    if (!drained) why.push('not drained within 15 s of no progress');
    if (x.missing_signals !== 0) why.push(`${x.missing_signals} signals not visible`);
    if (x.duplicate_signals !== 0) why.push(`${x.duplicate_signals} duplicates`);
    if (x.shed_ticks !== 0) why.push(`${x.shed_ticks} ticks shed`);
    if (x.drain_ms > 1000 + 2 * (cfg.commitIntervalMs ?? 0)) why.push(`drain ${fmt(x.drain_ms)} ms`);
    x.kept_up = why.length === 0;
    return x;
  } finally {
    await load.stop();
  }
}

/**
 * Each shard transaction's call holds one of libuv's threads while it waits for the broker (docs/kafka.md):
 * a concurrency above the default 2 gets UV_THREADPOOL_SIZE = 4 + concurrency in the runner's environment,
 * unless one is set already. The child's environment is copied from ours when it is spawned.
 */
async function startRunner(name: string, config: ServiceConfigInput, dir: string, cfg: DeliveryConfig): Promise<RunnerProcess> {
  const before = process.env['UV_THREADPOOL_SIZE'];
  if (before === undefined && cfg.concurrency !== null && cfg.concurrency > 2) process.env['UV_THREADPOOL_SIZE'] = String(4 + cfg.concurrency);
  try {
    return await RunnerProcess.start(name, config, dir);
  } finally {
    if (before === undefined) delete process.env['UV_THREADPOOL_SIZE'];
  }
}

async function deployment(s: Settings, cfg: DeliveryConfig, run: number, prefix: string, shared: { fills: string; deadLetter: string }, strategiesFile: string, dir: string, created: string[]): Promise<{ phases: PhaseRun[]; dep: DeploymentRun }> {
  const tag = cfg.delivery === 'at-least-once' ? 'alo' : `eo${cfg.commitIntervalMs}${cfg.concurrency === null ? '' : `c${cfg.concurrency}`}`;
  const dprefix = uniqueName(`${prefix}-${tag}`);
  const topics = { ticks: `${dprefix}.market.ticks`, signals: `${dprefix}.{broker}.signals.raw`, raw: `${dprefix}.paper.signals.raw` };
  const groupId = uniqueName(`${prefix}-${tag}-g`);
  await createTopics(s.brokers, [
    { topic: topics.ticks, partitions: s.partitions },
    { topic: topics.raw, partitions: SIGNAL_PARTITIONS },
  ]);
  created.push(topics.ticks, topics.raw, `${groupId}.shards`);
  const name = `${tag}-r${run}`;
  const base = runnerConfig(
    { brokers: s.brokers, topics: { ticks: topics.ticks, fills: shared.fills, deadLetter: shared.deadLetter, signals: topics.signals }, groupId, shards: s.shards, sessionTimeoutMs: 10_000, modules: MODULES, strategiesFile, pool: s.pool, dir, warmupMessages: 0, overloadPolicy: s.overload },
    name,
  );
  const config: ServiceConfigInput = {
    ...base,
    kafka: {
      ...base.kafka,
      delivery: cfg.delivery,
      ...(cfg.delivery === 'at-least-once'
        ? {}
        : { transactions: { commitIntervalMs: cfg.commitIntervalMs!, ...(cfg.concurrency === null ? {} : { concurrency: cfg.concurrency }), ...(s.maxRounds === null ? {} : { maxRounds: s.maxRounds }) } }),
    },
  };
  const reader = await SignalReader.start(s.brokers, topics.raw, uniqueName(`${prefix}-reader`), SIGNAL_PARTITIONS);
  const admin = kafkaClient(s.brokers).admin();
  let runner: RunnerProcess | undefined;
  try {
    await admin.connect();
    const t0 = Date.now();
    runner = await startRunner(name, config, dir, cfg);
    await untilConverged([runner], s.shards, { maxLag: 1_000_000, settleMs: 300, timeoutMs: 120_000 });
    if (cfg.delivery === 'exactly-once') {
      for (;;) {
        const st = (await runner.status(2000)) as EoStatus | undefined;
        const ready = st?.transactions?.shards.filter((x) => x.producer_ready).length ?? 0;
        if (ready >= s.shards) break;
        if (Date.now() - t0 > 120_000) throw new Error(`${name}: ${ready} of ${s.shards} shard producers ready after 120 s`);
        await sleep(100);
      }
    }
    const startupMs = Date.now() - t0;
    const phases: PhaseRun[] = [];
    const probe: Probe = { runner, reader, brokerPid: s.brokerPid, ends: async () => new Map((await admin.fetchTopicOffsets(topics.ticks)).map((o) => [o.partition, Number(o.high)])) };
    for (const rate of s.rates) {
      const x = await runPhase(s, cfg, run, rate, topics.ticks, probe);
      phases.push(x);
      log(
        `  run ${run} ${cfg.label.padEnd(18)} ${fmt(rate).padStart(6)}/s: p50 ${x.latency.p50_ms} p99 ${x.latency.p99_ms} p99.9 ${x.latency.p999_ms} max ${x.latency.max_ms} ms; ` +
          `read ${fmt(x.consumed_ticks_per_s)}/s in ${fmt(x.rounds_per_s)} rounds/s, visible ${fmt(x.visible_signals_per_s)} signals/s, lag ${fmt(x.lag_start_ticks)} → ${fmt(x.lag_end_ticks)}, drain ${fmt(x.drain_ms)} ms; CPU ${x.cpu_us_per_tick} µs/tick (${x.runner_cores} cores), broker ${x.broker_cpu_us_per_tick ?? '-'} µs/tick` +
          `${x.txn === null ? '' : `; ${x.txn.commits_per_s} txn/s of ${x.txn.mean_commit_ms} ms (${x.txn.busy_slots} in flight), oldest waiting ${fmt(x.txn.max_open_age_ms)} ms, ${x.txn.aborted} aborted`}; host ${x.host_busy_cores} cores busy (reader ${x.bench_cores}, generator ${x.generator_cores ?? '-'}), load ${x.load_1m}; ${x.kept_up ? 'kept up' : `DID NOT KEEP UP (${x.not_kept_up.join('; ')})`}`,
      );
      // A quiet moment between rates.
      await sleep(1000);
    }
    const st = (await runner.status(5000)) as EoStatus | undefined;
    const txns = st?.transactions;
    await runner.stop();
    const dep: DeploymentRun = {
      config: cfg.label,
      run,
      startup_ms: startupMs,
      // read while it ran, its shutdown included
      runner_error_lines: runner.problems().map((l) => l.slice(0, 500)),
      transactions: txns === undefined ? null : (({ shards: _shards, ...rest }) => rest)(txns),
      reader: { total: reader.total, stray: reader.stray, malformed: reader.malformed },
    };
    return { phases, dep };
  } finally {
    await runner?.stop();
    await reader.stop();
    await admin.disconnect().catch(() => undefined);
  }
}

function parseConfigs(list: string[]): DeliveryConfig[] {
  return list.map((c) => {
    if (c === 'at-least-once') return { label: c, delivery: 'at-least-once', commitIntervalMs: null, concurrency: null };
    const m = /^exactly-once(?::(\d+)(?::(\d+))?)?$/.exec(c);
    if (m === null) throw new Error(`--configs: '${c}' is neither at-least-once nor exactly-once:<commitIntervalMs>[:<concurrency>] (e.g. exactly-once:100)`);
    const ms = Number(m[1] ?? 100);
    if (ms < 5 || ms > 10_000) throw new Error(`--configs: '${c}': kafka.transactions.commitIntervalMs must be 5-10,000`);
    const concurrency = m[2] === undefined ? null : Number(m[2]);
    if (concurrency !== null && (concurrency < 1 || concurrency > 16)) throw new Error(`--configs: '${c}': kafka.transactions.concurrency must be 1-16`);
    return { label: `exactly-once:${ms}${concurrency === null ? '' : `:${concurrency}`}`, delivery: 'exactly-once', commitIntervalMs: ms, concurrency };
  });
}

function settingsFrom(): Settings & { out: string | undefined; keepLogs: boolean; brokersGiven: string | undefined } {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      brokers: { type: 'string' },
      configs: { type: 'string' },
      rates: { type: 'string' },
      runs: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      strategies: { type: 'string' },
      every: { type: 'string' },
      shards: { type: 'string' },
      partitions: { type: 'string' },
      pool: { type: 'string' },
      overload: { type: 'string' },
      'broker-pid': { type: 'string' },
      'broker-warmup': { type: 'string' },
      'max-rounds': { type: 'string' },
      'keep-logs': { type: 'boolean', default: false },
    },
  });
  const quick = values.quick;
  const list = (v: string | undefined, d: string): string[] => (v ?? d).split(',').map((x) => x.trim()).filter(Boolean);
  const overload = values.overload ?? 'hold';
  if (overload !== 'hold' && overload !== 'conflate') throw new Error(`--overload: '${overload}' is neither hold nor conflate`);
  return {
    quick,
    out: values.out,
    keepLogs: values['keep-logs'],
    brokersGiven: values.brokers,
    brokers: [],
    configs: parseConfigs(list(values.configs, 'at-least-once,exactly-once:20,exactly-once:100,exactly-once:500')),
    // 10,000 in full mode: where between the two a configuration stops keeping up.
    rates: list(values.rates, quick ? '5000,20000' : '5000,10000,20000').map(Number),
    runs: Number(values.runs ?? (quick ? 1 : 3)),
    durationS: Number(values.duration ?? (quick ? 4 : 12)),
    warmupS: Number(values.warmup ?? (quick ? 1 : 3)),
    strategies: Number(values.strategies ?? 128),
    every: Number(values.every ?? 20),
    shards: Number(values.shards ?? 32),
    partitions: Number(values.partitions ?? 6),
    pool: Number(values.pool ?? 2),
    overload,
    brokerPid: values['broker-pid'] === undefined ? undefined : Number(values['broker-pid']),
    brokerWarmupS: values['broker-warmup'] === undefined ? null : Number(values['broker-warmup']),
    maxRounds: values['max-rounds'] === undefined ? null : Number(values['max-rounds']),
  };
}

function printTables(rows: readonly Row[], runs: number): void {
  const sp = (x: Stat | null, f: (n: number) => string = (n) => n.toFixed(1)): string => (x === null ? '-' : `${f(x.median)} (${f(x.min)}-${f(x.max)})`);
  const ms = (n: number): string => (n < 10 ? n.toFixed(1) : fmt(n));
  process.stdout.write(`\nLatency, a tick's scheduled send → its signal visible to a read_committed consumer, ms: median over ${runs} run(s) (min-max)\n`);
  process.stdout.write(`${'configuration'.padEnd(18)}${'ticks/s'.padStart(8)}  ${'p50'.padEnd(20)}${'p99'.padEnd(20)}${'p99.9'.padEnd(20)}${'max'.padEnd(20)}\n`);
  for (const r of rows) {
    process.stdout.write(`${r.config.padEnd(18)}${fmt(r.offered_rate).padStart(8)}  ${sp(r.p50_ms, ms).padEnd(20)}${sp(r.p99_ms, ms).padEnd(20)}${sp(r.p999_ms, ms).padEnd(20)}${sp(r.max_ms, ms).padEnd(20)}\n`);
  }
  process.stdout.write(`\nThroughput and CPU over the measured window: median (min-max)\n`);
  process.stdout.write(
    `${'configuration'.padEnd(18)}${'ticks/s'.padStart(8)}  ${'read ticks/s'.padEnd(24)}${'visible signals/s'.padEnd(22)}${'lag at end ms'.padEnd(18)}${'drain ms'.padEnd(20)}${'kept up'.padEnd(9)}${'runner µs/tick'.padEnd(20)}${'broker µs/tick'.padEnd(20)}${'txn/s'.padEnd(18)}mean commit ms\n`,
  );
  for (const r of rows) {
    process.stdout.write(
      `${r.config.padEnd(18)}${fmt(r.offered_rate).padStart(8)}  ${sp(r.consumed_ticks_per_s, fmt).padEnd(24)}${sp(r.visible_signals_per_s, fmt).padEnd(22)}${sp(r.lag_end_ms, fmt).padEnd(18)}${sp(r.drain_ms, fmt).padEnd(20)}${`${r.kept_up_runs}/${r.runs}`.padEnd(9)}${sp(r.cpu_us_per_tick).padEnd(20)}${sp(r.broker_cpu_us_per_tick).padEnd(20)}${sp(r.commits_per_s, fmt).padEnd(18)}${sp(r.mean_commit_ms)}\n`,
    );
  }
  for (const r of rows) {
    if (r.kept_up_runs === r.runs) continue;
    process.stdout.write(`\n${r.config} at ${fmt(r.offered_rate)} ticks/s did NOT keep up in ${r.runs - r.kept_up_runs} of ${r.runs} run(s): ${r.samples.filter((x) => !x.kept_up).map((x) => `run ${x.run}: ${x.not_kept_up.join('; ')}`).join(' | ')}\n`);
  }
}

async function main(): Promise<void> {
  const loadBefore = loadavg().map(r2);
  const s = settingsFrom();
  const broker = useBroker(s.brokersGiven);
  s.brokers = broker.brokers;
  s.brokerPid ??= findBrokerPid(s.brokers);
  const prefix = uniqueName('bench-eo');
  const shared = { fills: `${prefix}.orders.filled`, deadLetter: `${prefix}.dlq` };
  const created: string[] = [shared.fills, shared.deadLetter];
  const dir = mkdtempSync(join(tmpdir(), 'sr-bench-exactly-once-'));
  const strategiesFile = join(dir, 'strategies.json');
  writeFileSync(strategiesFile, JSON.stringify(balancedStrategies(s.strategies, s.every, s.shards)));
  const phases = new Map<string, PhaseRun[]>();
  const deployments: DeploymentRun[] = [];
  let ok = false;
  const t0 = Date.now();
  try {
    await createTopics(s.brokers, [
      { topic: shared.fills, partitions: 1 },
      { topic: shared.deadLetter, partitions: 1 },
    ]);
    log(
      `${s.configs.map((c) => c.label).join(', ')} at ${s.rates.map(fmt).join(', ')} ticks/s; ${s.runs} run(s) of ${s.warmupS} + ${s.durationS} s per rate; ` +
        `${s.strategies} strategies (a signal every ${s.every}th tick each) on ${s.shards} shards, one runner, pool ${s.pool}; broker ${s.brokers.join(',')}${s.brokerPid === undefined ? '' : ` (pid ${s.brokerPid})`}; load ${loadBefore.join(' ')}`,
    );
    // A broker started a moment ago runs its first minutes on a cold JVM, and creates its transaction state
    // topic at the first initTransactions (the first deployment measured 2-3× the broker CPU per tick of the
    // later ones and fell behind at 5,000 ticks/s): an unrecorded exactly-once deployment first.
    const warmS = s.brokerWarmupS ?? (s.quick ? (broker.started ? 5 : 0) : 20);
    if (warmS > 0) {
      const warmCfg = s.configs.find((c) => c.delivery === 'exactly-once') ?? s.configs[0]!;
      const low = Math.min(...s.rates);
      log(`warm-up (not recorded): ${warmCfg.label} at ${fmt(low)} ticks/s for ${warmS} s`);
      await deployment({ ...s, rates: [low], warmupS: 0, durationS: warmS }, warmCfg, 0, prefix, shared, strategiesFile, dir, created);
    }
    for (let run = 1; run <= s.runs; run++) {
      // Interleaved, the order rotated from run to run: drift on a shared host hits each configuration alike.
      const order = s.configs.map((_, i) => s.configs[(i + run - 1) % s.configs.length]!);
      for (const cfg of order) {
        const { phases: xs, dep } = await deployment(s, cfg, run, prefix, shared, strategiesFile, dir, created);
        deployments.push(dep);
        for (const x of xs) phases.set(`${cfg.label}@${x.offered_rate}`, [...(phases.get(`${cfg.label}@${x.offered_rate}`) ?? []), x]);
      }
    }
    ok = true;
  } finally {
    await deleteTopics(s.brokers, created);
    broker.stop();
    if (ok && !s.keepLogs) rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`runner configurations and logs: ${dir}\n`);
  }
  const rows: Row[] = [];
  for (const cfg of s.configs) {
    for (const rate of s.rates) {
      const xs = phases.get(`${cfg.label}@${rate}`) ?? [];
      if (xs.length === 0) continue;
      const txn = xs.map((x) => x.txn);
      rows.push({
        config: cfg.label,
        delivery: cfg.delivery,
        commit_interval_ms: cfg.commitIntervalMs,
        offered_rate: rate,
        runs: xs.length,
        kept_up_runs: xs.filter((x) => x.kept_up).length,
        p50_ms: stat(xs.map((x) => x.latency.p50_ms)),
        p99_ms: stat(xs.map((x) => x.latency.p99_ms)),
        p999_ms: stat(xs.map((x) => x.latency.p999_ms)),
        max_ms: stat(xs.map((x) => x.latency.max_ms)),
        consumed_ticks_per_s: stat(xs.map((x) => x.consumed_ticks_per_s)),
        visible_signals_per_s: stat(xs.map((x) => x.visible_signals_per_s)),
        lag_end_ms: stat(xs.map((x) => x.lag_end_ms)),
        drain_ms: stat(xs.map((x) => x.drain_ms)),
        cpu_us_per_tick: stat(xs.map((x) => x.cpu_us_per_tick)),
        broker_cpu_us_per_tick: statOrNull(xs.map((x) => x.broker_cpu_us_per_tick)),
        mean_commit_ms: statOrNull(txn.map((t) => t?.mean_commit_ms ?? null)),
        commits_per_s: statOrNull(txn.map((t) => t?.commits_per_s ?? null)),
        samples: xs,
      });
    }
  }
  printTables(rows, s.runs);
  const odd = deployments.filter((d) => d.runner_error_lines.length > 0 || (d.transactions !== null && (d.transactions.aborted > 0 || d.transactions.fenced > 0 || d.transactions.rebuilds > 0 || d.transactions.init_failures > 0 || d.transactions.dropped_signals > 0)) || d.reader.stray > 0 || d.reader.malformed > 0);
  for (const d of odd) process.stdout.write(`\nnote: ${d.config} run ${d.run}: ${JSON.stringify({ errors: d.runner_error_lines.length, transactions: d.transactions, reader: d.reader })}\n`);
  const settings = {
    configs: s.configs,
    rates: s.rates,
    runs: s.runs,
    order: 'configurations interleaved within each run, the order rotated by one per run; the rates in order within each deployment',
    duration_s: s.durationS,
    warmup_s: s.warmupS,
    strategies: s.strategies,
    strategy: `BenchTrivial with every=${s.every} (a signal on every ${s.every}th tick it sees), 50 of ${INSTRUMENTS} instruments each (a tick goes to ${r1((s.strategies * 50) / INSTRUMENTS)} of them: about ${r2((s.strategies * 50) / INSTRUMENTS / s.every)} signals per tick), ids chosen for ${Math.ceil(s.strategies / s.shards)} per shard`,
    shards: s.shards,
    runners: 1,
    pool: s.pool,
    ticks_partitions: s.partitions,
    signal_partitions: SIGNAL_PARTITIONS,
    overload: s.overload,
    broker_warmup_s: s.brokerWarmupS ?? (s.quick ? (broker.started ? 5 : 0) : 20),
    max_rounds: s.maxRounds,
    runner: { warmupMessages: 0, sessionTimeoutMs: 10_000, releaseTimeoutMs: 5000, uv_threadpool_size: 'inherited; 4 + concurrency for a configuration with transactions.concurrency above 2 (unless set)', kafka: 'the runner defaults otherwise (producer linger 2 ms, lz4; fetch wait 10 ms); exactly-once: transactions defaults but commitIntervalMs (maxRounds 100, concurrency 2, positionIntervalMs 1000)' },
    reader: { isolation: 'read_committed (KafkaJS readUncommitted: false)', 'fetch.wait.max.ms': 5, 'fetch.min.bytes': 1, process: 'the benchmark' },
    generator: { producer: { acks: -1, compression: 'none', ...GENERATOR_PRODUCER }, pacing: 'bench/lib/latency-loadgen.ts, a child process: absolute schedule, each tick stamped with its scheduled send time' },
    kept_up: 'generator ≥ 98% of the rate, lag at the window end ≤ 1 s of the flow, every emitted signal visible once, nothing shed, drain ≤ 1 s + 2 commit intervals',
    broker: { brokers: broker.brokers, started_by_bench: broker.started, pid: s.brokerPid ?? null },
    wall_s: Math.round((Date.now() - t0) / 1000),
  };
  const out = s.out ?? join(HERE, '..', '..', 'bench', 'results', `exactly-once-${s.quick ? 'quick' : 'full'}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ benchmark: 'exactly-once', mode: s.quick ? 'quick' : 'full', at: new Date().toISOString(), machine: machine(), load_average: { before: loadBefore, after: loadavg().map(r2) }, settings, results: rows, deployments }, null, 2) + '\n');
  process.stdout.write(`results: ${out}\n`);
}

await main();
// librdkafka's native threads can hold the event loop briefly after disconnect: leave explicitly once everything is closed.
process.exit(0);
