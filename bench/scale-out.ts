/**
 * Scale-out across runner processes (kafka.shards): real `strategy-runner
 * run` processes (the built CLI, one configuration file each, strategies
 * from a file), against the broker.
 *  - failover: a steady tick flow (`--rate`, produced here) and a deployment
 *    of 2-3 runners sharing `--shards` shards among `--strategies` light
 *    strategies. Per cycle: a runner joins, the oldest leaves with SIGTERM, a
 *    runner joins, the oldest is killed with SIGKILL. Each event is timed from
 *    the spawn or the signal to the moment every shard is held by exactly one
 *    live runner, `live`, with at most `--max-lag-ms` of the flow as lag, the
 *    shards spread evenly (held counts within one), and staying so for
 *    `--settle-ms`; the runners' /status polled every 100 ms. Repeated for
 *    each `--session-timeouts` value (a deployment each).
 *  - throughput: `--throughput-ticks` ticks pre-loaded, then a new deployment
 *    of 1 or 2 runners (`--layouts RxP`: R runners with P strategy threads
 *    each) with `--heavy-strategies` CPU-bound strategies; timed from the
 *    spawn to every shard's acknowledged position at the end of every
 *    partition. Also the rate once the shards have their final owners
 *    (`steady`), and the runners' CPU per tick. These runners have no
 *    warm-up and the overload policy `hold`, so every tick is run once.
 *  - cost: what a runner that holds no shard costs: a deployment with one
 *    shard held by runner A (the light strategies) and a second runner B of
 *    the same deployment (a standby: it reads every tick and holds nothing),
 *    and, for comparison, a runner C of another deployment with no
 *    strategies (it holds its one shard: it decodes and routes every tick to
 *    nobody). Process CPU time (/proc/PID/stat, user + system, every thread)
 *    over windows of `--cost-seconds` of the flow at each of `--cost-rates`
 *    (`--cost-runs` windows each, interleaved), per tick its main reader
 *    read; and at idle.
 * Prints tables and writes bench/results/scale-out-<mode>.json.
 *   node dist/bench/scale-out.js [--quick] [--brokers H:P] [--parts failover,throughput,cost] [--runs N]
 *        [--session-timeouts 6000,10000] [--rate N] [--shards N] [--strategies N] [--settle-ms N] [--max-lag-ms N]
 *        [--throughput-ticks N] [--throughput-runs N] [--layouts 1x2,2x2] [--heavy-strategies N] [--heavy-work N]
 *        [--cost-seconds N] [--cost-rates 3000,20000] [--cost-runs N] [--idle-seconds N] [--partitions N] [--pool N] [--keep-logs] [--out FILE]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createTopics, deleteTopics, preload, uniqueName, useBroker } from './lib/broker.js';
import { machine, median } from './lib/machine.js';
import { Deployment, partitionEnds, untilConverged, type DeploymentOptions, type DeploymentTopics } from './lib/scale-out-deployment.js';
import { TickFlow } from './lib/scale-out-flow.js';
import { hostCpuMs, type RunnerProcess, type RunnerStatus } from './lib/scale-out-runner.js';
import { balancedIds, strategies, tickLines } from './lib/workload.js';
import type { StrategyConfigInput } from '../src/config/strategy-config.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const MODULES = [join(HERE, 'strategies', 'trivial.js'), join(HERE, 'strategies', 'heavy.js')];
const PARTS = ['failover', 'throughput', 'cost'] as const;
type Part = (typeof PARTS)[number];

interface Settings {
  quick: boolean;
  brokers: string[];
  parts: Set<Part>;
  runs: number;
  sessionTimeouts: number[];
  rate: number;
  shards: number;
  strategies: number;
  settleMs: number;
  maxLagMs: number;
  throughputTicks: number;
  throughputRuns: number;
  layouts: { runners: number; pool: number }[];
  heavyStrategies: number;
  heavyWork: number;
  costSeconds: number;
  costRates: number[];
  costRuns: number;
  idleSeconds: number;
  partitions: number;
  pool: number;
}

type FailoverEvent = 'join' | 'leave-sigterm' | 'kill-sigkill';

/** One timed event. Times are ms from the spawn or the signal. */
interface FailoverSample {
  event: FailoverEvent;
  runners_before: number;
  runners_after: number;
  /** every shard held once, live, near the head, evenly spread (and stayed so for settle_ms) */
  converged_ms: number;
  /** join: the new process's status server listening */
  listening_ms?: number;
  /** join: the new process's `joining the deployment` (in the group, waiting for shards) */
  joined_ms?: number;
  /** join: the last `shards released` by the runners already there (the cooperative rebalance's first round done) */
  others_released_ms?: number | null;
  /** the first `shards acquired` logged after the event by any runner that stays (join: by the new one) */
  first_acquired_ms: number | null;
  /** the last `shards acquired` logged by a runner that stays, before convergence */
  last_acquired_ms: number | null;
  /** leave: the leaving runner's `shards released` (null: a runner that stops commits its positions in its close and logs no release) */
  released_ms?: number | null;
  /** leave, kill: the process gone */
  exit_ms?: number;
  /** leave: its exit code */
  exit_code?: number | null;
  held_after: number[];
  /** shards the staying runners logged lost (session expired) meanwhile */
  lost: number;
}

interface FailoverRow {
  measure: 'failover';
  session_timeout_ms: number;
  event: FailoverEvent;
  /** converged_ms of each sample */
  runs: number[];
  median_ms: number;
  min_ms: number;
  max_ms: number;
  /** medians of the parts */
  median_first_acquired_ms: number | null;
  median_last_acquired_ms: number | null;
  samples: FailoverSample[];
  /** error lines in the deployment's logs (every event of this session timeout) */
  runner_error_lines: number;
  /** over the events of this session timeout: the 1-minute load average at the start and the end, the host's busy cores (/proc/stat) */
  machine_load: { load_1m: number[]; host_busy_cores: number };
}

interface ThroughputRow {
  measure: 'throughput';
  runners: number;
  pool: number;
  ticks: number;
  /** ticks / (spawn → every shard's position at the end), per run */
  runs: number[];
  ticks_per_s: number;
  /** the same from the moment the shards had their final owners, per run (null: that stretch was under 2 s) */
  steady_runs: (number | null)[];
  steady_ticks_per_s: number | null;
  /** the runners' CPU time (all processes, from their spawn) per tick, µs, per run */
  cpu_us_per_tick: number[];
  /** the same over the `steady` stretch only (no start-up, no handover), per run */
  steady_cpu_us_per_tick: (number | null)[];
  /** strategies run by each runner (last run) */
  strategies_per_runner: number[];
  /** per run: the runners' CPU time over the wall time (cores they used) */
  runner_cores: number[];
  /** per run: the whole host's busy time over the wall time, in cores (/proc/stat): the rest is other processes, the broker and this program */
  host_busy_cores: number[];
  /** per run: the 1-minute load average before it */
  load_1m_before: number[];
  /** ticks conflated or dropped by the supervisors, all runs (0: with overload policy hold, every tick was run) */
  shed_ticks: number;
  /** error lines in the runners' logs, all runs */
  runner_error_lines: number;
  /** ticks_per_s / the 1-runner layout's with the same pool */
  ratio_to_one_runner?: number;
}

type CostRole = 'holds-everything' | 'standby-holds-nothing' | 'other-deployment-no-strategies';

interface CostRow {
  measure: 'cost';
  /** the flow's ticks/s */
  rate: number;
  role: CostRole;
  shards_held: number;
  strategies: number;
  /** ticks its main reader read, all windows */
  ticks_read: number;
  window_s: number;
  cpu_ms: number;
  /** CPU per tick its main reader read, µs: the median over the windows */
  cpu_us_per_tick: number;
  /** the same, per window */
  runs_cpu_us_per_tick: number[];
  /** the same after the idle rate is taken off (median) */
  marginal_cpu_us_per_tick: number;
  /** share of one core over a window (median) */
  cpu_share: number;
  /** CPU at idle (no flow), ms per s */
  idle_cpu_ms_per_s: number;
  /** ticks decoded and routed (consumer.counters.ticks) and not held (unownedTicks), all windows */
  routed_ticks: number;
  unowned_ticks: number;
  /** the whole host's busy cores over each window (/proc/stat) */
  host_busy_cores: number[];
}

type Row = FailoverRow | ThroughputRow | CostRow;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function since(t0: number, t: number | undefined | null): number | null {
  return t === undefined || t === null || t === 0 ? null : t - t0;
}

function medianOrNull(xs: readonly (number | null)[]): number | null {
  const v = xs.filter((x): x is number => x !== null);
  return v.length === 0 ? null : median(v);
}

function log(s: string): void {
  process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);
}

/** Topics of one deployment's flow: a ticks topic of its own, the rest shared. */
function topicsWith(shared: Omit<DeploymentTopics, 'ticks'>, ticks: string): DeploymentTopics {
  return { ...shared, ticks };
}

// ---------------------------------------------------------------- failover

async function failover(s: Settings, shared: Omit<DeploymentTopics, 'ticks'>, prefix: string, dir: string, created: string[]): Promise<FailoverRow[]> {
  const rows: FailoverRow[] = [];
  const strategiesFile = join(dir, 'light-strategies.json');
  writeFileSync(strategiesFile, JSON.stringify(strategies(s.strategies, 'trivial')));
  const maxLag = Math.max(50, Math.round((s.rate * s.maxLagMs) / 1000));
  const converge = { maxLag, settleMs: s.settleMs, timeoutMs: 120_000 };
  for (const sessionTimeoutMs of s.sessionTimeouts) {
    const ticks = `${prefix}.failover-${sessionTimeoutMs}.market.ticks`;
    await createTopics(s.brokers, [{ topic: ticks, partitions: s.partitions }]);
    created.push(ticks);
    const groupId = uniqueName(`${prefix}-fo`);
    created.push(`${groupId}.shards`);
    const dep = new Deployment({ brokers: s.brokers, topics: topicsWith(shared, ticks), groupId, shards: s.shards, sessionTimeoutMs, modules: MODULES, strategiesFile, pool: s.pool, dir });
    const flow = await TickFlow.start(s.brokers, ticks, s.rate);
    const samples: FailoverSample[] = [];
    const load0 = loadavg()[0]!;
    const host0 = hostCpuMs();
    try {
      log(`failover, session timeout ${sessionTimeoutMs} ms: starting 2 runners (${s.shards} shards, ${s.strategies} strategies, ${fmt(s.rate)} ticks/s)`);
      await Promise.all([dep.spawn(), dep.spawn()]);
      await untilConverged(dep.alive, s.shards, converge);
      for (let i = 0; i < s.runs; i++) {
        for (const event of ['join', 'leave-sigterm', 'join', 'kill-sigkill'] as const) {
          // A quiet moment between events: the next one starts from a settled deployment.
          await sleep(1000);
          const x = await timeEvent(dep, event, converge, s.shards);
          samples.push(x);
          log(
            `  run ${i + 1} ${event.padEnd(13)} ${x.runners_before}→${x.runners_after} runners: converged in ${fmt(x.converged_ms)} ms (first acquired ${x.first_acquired_ms ?? '-'} ms, last ${x.last_acquired_ms ?? '-'} ms${x.listening_ms === undefined ? '' : `, listening ${x.listening_ms} ms, joined ${x.joined_ms ?? '-'} ms, others released ${x.others_released_ms ?? '-'} ms`}${x.exit_ms === undefined ? '' : `, exit ${x.exit_ms} ms`}); held ${x.held_after.join('/')}`,
          );
        }
      }
    } finally {
      await flow.stop();
      await dep.stop();
    }
    if (flow.failed > 0) throw new Error(`the tick flow lost ${flow.failed} ticks: ${flow.lastError}`);
    const host1 = hostCpuMs();
    const machineLoad = {
      load_1m: [Math.round(load0 * 100) / 100, Math.round(loadavg()[0]! * 100) / 100],
      host_busy_cores: Math.round(((host1.busy - host0.busy) / Math.max(1, host1.total - host0.total)) * cpus().length * 100) / 100,
    };
    for (const event of ['join', 'leave-sigterm', 'kill-sigkill'] as const) {
      const mine = samples.filter((x) => x.event === event);
      const runs = mine.map((x) => x.converged_ms);
      rows.push({
        measure: 'failover',
        session_timeout_ms: sessionTimeoutMs,
        event,
        runs,
        median_ms: median(runs),
        min_ms: Math.min(...runs),
        max_ms: Math.max(...runs),
        median_first_acquired_ms: medianOrNull(mine.map((x) => x.first_acquired_ms)),
        median_last_acquired_ms: medianOrNull(mine.map((x) => x.last_acquired_ms)),
        samples: mine,
        runner_error_lines: dep.errors().length,
        machine_load: machineLoad,
      });
    }
  }
  return rows;
}

async function timeEvent(dep: Deployment, event: FailoverEvent, converge: { maxLag: number; settleMs: number; timeoutMs: number }, shards: number): Promise<FailoverSample> {
  const before = dep.alive;
  const t0 = Date.now();
  let joiner: RunnerProcess | undefined;
  let victim: RunnerProcess | undefined;
  if (event === 'join') {
    joiner = await dep.spawn();
  } else {
    victim = before[0]!;
    victim.kill(event === 'leave-sigterm' ? 'SIGTERM' : 'SIGKILL');
  }
  const stay = event === 'join' ? [...before, joiner!] : before.filter((r) => r !== victim);
  const c = await untilConverged(stay, shards, converge);
  if (victim !== undefined) {
    await Promise.race([victim.exited, sleep(30_000)]);
    if (victim.alive) throw new Error(`runner ${victim.name} still running 30 s after ${event}`);
  }
  const acquired = (event === 'join' ? [joiner!] : stay).flatMap((r) => r.events()).filter((e) => e.kind === 'acquired' && e.at >= t0 && e.at <= c.at + converge.settleMs);
  const lost = stay.flatMap((r) => r.events()).filter((e) => e.kind === 'lost' && e.at >= t0);
  const sample: FailoverSample = {
    event,
    runners_before: before.length,
    runners_after: stay.length,
    converged_ms: c.at - t0,
    first_acquired_ms: acquired.length === 0 ? null : Math.min(...acquired.map((e) => e.at)) - t0,
    last_acquired_ms: acquired.length === 0 ? null : Math.max(...acquired.map((e) => e.at)) - t0,
    held_after: c.held,
    lost: lost.reduce((a, e) => a + e.shards.length, 0),
  };
  if (joiner !== undefined) {
    sample.listening_ms = joiner.listeningAt - t0;
    sample.joined_ms = joiner.joinedAt === 0 ? undefined : joiner.joinedAt - t0;
    const released = before.flatMap((r) => r.events()).filter((e) => e.kind === 'released' && e.at >= t0 && e.at <= c.at);
    sample.others_released_ms = released.length === 0 ? null : Math.max(...released.map((e) => e.at)) - t0;
  }
  if (victim !== undefined) {
    sample.exit_ms = victim.exitedAt - t0;
    if (event === 'leave-sigterm') {
      sample.exit_code = victim.exit?.code ?? null;
      sample.released_ms = since(t0, victim.events().find((e) => e.kind === 'released' && e.at >= t0)?.at);
    }
  }
  return sample;
}

// ---------------------------------------------------------------- throughput

/**
 * The heavy workload: CPU-bound strategies, 50 of 1,000 instruments each,
 * with ids chosen so that every shard has the same number of them (count /
 * shards, rounded up): a runner's share of the work is then its share of the
 * shards, and 1 against 2 runners measures the runners, not the luck of the
 * hash (64 strategies named s0000-s0063 split 40/24 between two runners).
 */
function heavyStrategies(count: number, work: number, shards: number): StrategyConfigInput[] {
  const ids = balancedIds(count, shards, 'h');
  return strategies(count, 'trivial').map((c, i) => ({ ...c, id: ids[i]!, strategy_type: 'BenchHeavy', parameters: { work } }));
}

/** Every shard held once, and every partition of each at its end: the sum of the shards' positions then. */
function positions(docs: readonly (RunnerStatus | undefined)[], shards: number, ends: ReadonlyMap<number, number>): { all: boolean; done: boolean; sum: number; owners: string } {
  const seen = new Set<number>();
  let sum = 0;
  let done = true;
  const owners: string[] = [];
  for (const d of docs) {
    const held = d?.shards?.shards ?? [];
    owners.push(held.map((x) => x.shard).join(','));
    for (const sh of held) {
      if (seen.has(sh.shard)) return { all: false, done: false, sum, owners: owners.join('|') };
      seen.add(sh.shard);
      const at = new Map(sh.partitions.map((p) => [p.partition, p.delivered_offset]));
      for (const [p, end] of ends) {
        const o = at.get(p) ?? 0;
        sum += Math.min(o, end);
        if (o < end) done = false;
      }
    }
  }
  const all = seen.size === shards && docs.every((d) => d?.shards !== undefined);
  return { all, done: all && done, sum, owners: owners.join('|') };
}

async function throughputRun(s: Settings, topics: DeploymentTopics, prefix: string, dir: string, strategiesFile: string, layout: { runners: number; pool: number }, ends: ReadonlyMap<number, number>, n: number, created: string[]): Promise<{ perS: number; steady: number | null; cpuUsPerTick: number; steadyCpu: number | null; strategiesPerRunner: number[]; shed: number; errors: number; load: number; hostCores: number; runnerCores: number }> {
  const groupId = uniqueName(`${prefix}-tp`);
  created.push(`${groupId}.shards`);
  // No warm-up (a new deployment has no history, and a shard moved while the deployment forms would re-read up to
  // 10,000 ticks per partition as uncounted work) and `hold` (a thread behind makes the input wait: every tick is run).
  const dep = new Deployment({ brokers: s.brokers, topics, groupId, shards: s.shards, sessionTimeoutMs: 10_000, modules: MODULES, strategiesFile, pool: layout.pool, dir, warmupMessages: 0, overloadPolicy: 'hold' });
  const samples: { t: number; sum: number; owners: string; all: boolean; cpu: number }[] = [];
  try {
    const load = loadavg()[0]!;
    const host0 = hostCpuMs();
    const t0 = Date.now();
    const runners = await Promise.all(Array.from({ length: layout.runners }, () => dep.spawn()));
    let tEnd = 0;
    let lastProgress = Date.now();
    let lastSum = -1;
    let docs: (RunnerStatus | undefined)[] = [];
    for (;;) {
      const t = Date.now();
      const dead = runners.find((r) => !r.alive);
      if (dead !== undefined) throw new Error(`runner ${dead.name} exited (${dead.exit?.code ?? dead.exit?.signal})\n${dead.tail()}`);
      docs = await Promise.all(runners.map((r) => r.status(2000)));
      const p = positions(docs, s.shards, ends);
      samples.push({ t, sum: p.sum, owners: p.owners, all: p.all, cpu: runners.reduce((a, r) => a + (r.cpuMs() ?? 0), 0) });
      if (p.done) {
        tEnd = t;
        break;
      }
      if (p.sum !== lastSum) {
        lastSum = p.sum;
        lastProgress = t;
      } else if (t - lastProgress > 60_000) throw new Error(`throughput ${layout.runners}x${layout.pool}: no progress for 60 s (owners ${p.owners})`);
      const wait = 100 - (Date.now() - t);
      if (wait > 0) await sleep(wait);
    }
    const cpu = runners.reduce((a, r) => a + (r.cpuMs() ?? 0), 0);
    const host1 = hostCpuMs();
    const wallMs = tEnd - t0;
    // The host's busy time in cores over the run (2 = both cores busy), and the runners' part of it.
    const hostCores = host1.total > host0.total ? ((host1.busy - host0.busy) / (host1.total - host0.total)) * cpus().length : 0;
    const runnerCores = cpu / wallMs;
    const strategiesPerRunner = docs.map((d) => (d?.shards?.shards ?? []).reduce((a, x) => a + x.strategies.length, 0));
    // The stretch after the shards got their final owners: from the first sample with every shard held and the same owners as at the end.
    const final = samples[samples.length - 1]!.owners;
    let k = samples.length - 1;
    while (k > 0 && samples[k - 1]!.all && samples[k - 1]!.owners === final) k--;
    const from = samples[k]!;
    const steadyS = (tEnd - from.t) / 1000;
    const steadyTicks = (s.shards * n - from.sum) / s.shards;
    const steady = steadyS >= 2 ? steadyTicks / steadyS : null;
    // The runners' CPU over that stretch per tick: without their start-up (process, threads, strategies) and the handover.
    const steadyCpu = steadyS >= 2 ? ((samples[samples.length - 1]!.cpu - from.cpu) * 1000) / steadyTicks : null;
    const shed = docs.reduce((a, d) => a + (d?.totals?.['conflated_ticks'] ?? 0) + (d?.totals?.['dropped_ticks'] ?? 0), 0);
    return { perS: n / (wallMs / 1000), steady, cpuUsPerTick: (cpu * 1000) / n, steadyCpu, strategiesPerRunner, shed, errors: dep.errors().length, load, hostCores, runnerCores };
  } finally {
    await dep.stop();
  }
}

async function throughput(s: Settings, shared: Omit<DeploymentTopics, 'ticks'>, prefix: string, dir: string, created: string[]): Promise<ThroughputRow[]> {
  const ticks = `${prefix}.throughput.market.ticks`;
  await createTopics(s.brokers, [{ topic: ticks, partitions: s.partitions }]);
  created.push(ticks);
  const n = s.throughputTicks;
  const took = await preload(s.brokers, ticks, tickLines(n));
  const ends = await partitionEnds(s.brokers, ticks);
  const total = [...ends.values()].reduce((a, b) => a + b, 0);
  if (total !== n) throw new Error(`pre-load: the topic holds ${total} ticks, expected ${n}`);
  log(`throughput: pre-loaded ${fmt(n)} ticks in ${took.toFixed(1)} s; ${s.heavyStrategies} heavy strategies (work ${s.heavyWork}), ${s.shards} shards`);
  const strategiesFile = join(dir, 'heavy-strategies.json');
  writeFileSync(strategiesFile, JSON.stringify(heavyStrategies(s.heavyStrategies, s.heavyWork, s.shards)));
  const acc = s.layouts.map(() => ({ runs: [] as number[], steady: [] as (number | null)[], cpu: [] as number[], steadyCpu: [] as (number | null)[], split: [] as number[], shed: 0, errors: 0, load: [] as number[], host: [] as number[], runner: [] as number[] }));
  for (let i = 0; i < s.throughputRuns; i++) {
    // Interleaved, so that drift on a shared machine hits each alike.
    for (const [j, layout] of s.layouts.entries()) {
      const x = await throughputRun(s, topicsWith(shared, ticks), prefix, dir, strategiesFile, layout, ends, n, created);
      acc[j]!.runs.push(Math.round(x.perS));
      acc[j]!.steady.push(x.steady === null ? null : Math.round(x.steady));
      acc[j]!.cpu.push(Math.round(x.cpuUsPerTick * 10) / 10);
      acc[j]!.steadyCpu.push(x.steadyCpu === null ? null : Math.round(x.steadyCpu * 10) / 10);
      acc[j]!.split = x.strategiesPerRunner;
      acc[j]!.shed += x.shed;
      acc[j]!.load.push(Math.round(x.load * 100) / 100);
      acc[j]!.host.push(Math.round(x.hostCores * 100) / 100);
      acc[j]!.runner.push(Math.round(x.runnerCores * 100) / 100);
      acc[j]!.errors += x.errors;
      log(`  run ${i + 1} ${layout.runners} runner(s) x pool ${layout.pool}: ${fmt(x.perS)} ticks/s from spawn, ${x.steady === null ? '-' : fmt(x.steady)} steady; CPU ${x.cpuUsPerTick.toFixed(1)} µs per tick (${x.steadyCpu === null ? '-' : x.steadyCpu.toFixed(1)} steady); strategies per runner ${x.strategiesPerRunner.join('/')}; the runners used ${x.runnerCores.toFixed(2)} cores, the host was busy ${x.hostCores.toFixed(2)} of ${cpus().length} (load ${x.load.toFixed(1)} before)`);
    }
  }
  const rows: ThroughputRow[] = s.layouts.map((l, j) => ({
    measure: 'throughput',
    runners: l.runners,
    pool: l.pool,
    ticks: n,
    runs: acc[j]!.runs,
    ticks_per_s: median(acc[j]!.runs),
    steady_runs: acc[j]!.steady,
    steady_ticks_per_s: medianOrNull(acc[j]!.steady),
    cpu_us_per_tick: acc[j]!.cpu,
    steady_cpu_us_per_tick: acc[j]!.steadyCpu,
    strategies_per_runner: acc[j]!.split,
    runner_cores: acc[j]!.runner,
    host_busy_cores: acc[j]!.host,
    load_1m_before: acc[j]!.load,
    shed_ticks: acc[j]!.shed,
    runner_error_lines: acc[j]!.errors,
  }));
  for (const r of rows) {
    const one = rows.find((x) => x.runners === 1 && x.pool === r.pool) ?? rows.find((x) => x.runners === 1);
    if (one !== undefined && one !== r) r.ratio_to_one_runner = Math.round((r.ticks_per_s / one.ticks_per_s) * 1000) / 1000;
  }
  return rows;
}

// ---------------------------------------------------------------- cost

async function cost(s: Settings, shared: Omit<DeploymentTopics, 'ticks'>, prefix: string, dir: string, created: string[]): Promise<CostRow[]> {
  const ticks = `${prefix}.cost.market.ticks`;
  await createTopics(s.brokers, [{ topic: ticks, partitions: s.partitions }]);
  created.push(ticks);
  const light = join(dir, 'cost-light-strategies.json');
  writeFileSync(light, JSON.stringify(strategies(s.strategies, 'trivial')));
  const none = join(dir, 'cost-no-strategies.json');
  writeFileSync(none, '[]');
  const groupAB = uniqueName(`${prefix}-cost`);
  const groupC = uniqueName(`${prefix}-cost-empty`);
  created.push(`${groupAB}.shards`, `${groupC}.shards`);
  const base = { brokers: s.brokers, topics: topicsWith(shared, ticks), shards: 1, sessionTimeoutMs: 10_000, modules: MODULES, pool: s.pool, dir } satisfies Partial<DeploymentOptions>;
  const depAB = new Deployment({ ...base, groupId: groupAB, strategiesFile: light });
  const depC = new Deployment({ ...base, groupId: groupC, strategiesFile: none });
  const converge = { maxLag: 1_000_000, settleMs: 500, timeoutMs: 120_000 };
  let flow: TickFlow | undefined;
  try {
    log(`cost: one shard; A holds it (${s.strategies} light strategies), B (same deployment) holds nothing, C (another deployment) holds its shard with no strategies`);
    const a = await depAB.spawn();
    await untilConverged([a], 1, converge);
    const [b, c] = await Promise.all([depAB.spawn(), depC.spawn()]);
    await untilConverged([c], 1, converge);
    // B is in the group once its first assignment (empty) has come.
    for (const t0 = Date.now(); ; ) {
      const st = await b.status();
      if ((st?.shards?.counters['rebalances'] ?? 0) > 0) break;
      if (Date.now() - t0 > 60_000) throw new Error('cost: runner B got no assignment within 60 s');
      await sleep(200);
    }
    const who = [
      { role: 'holds-everything' as const, r: a, strategies: s.strategies },
      { role: 'standby-holds-nothing' as const, r: b, strategies: 0 },
      { role: 'other-deployment-no-strategies' as const, r: c, strategies: 0 },
    ];
    await sleep(2000);
    const idle0 = { t: Date.now(), cpu: who.map((w) => w.r.cpuMs() ?? 0) };
    await sleep(s.idleSeconds * 1000);
    const idle1 = { t: Date.now(), cpu: who.map((w) => w.r.cpuMs() ?? 0) };
    const idleS = (idle1.t - idle0.t) / 1000;
    const read = async (): Promise<{ t: number; cpu: number[]; docs: (RunnerStatus | undefined)[]; host: { busy: number; total: number } }> => {
      const docs = await Promise.all(who.map((w) => w.r.status(2000)));
      return { t: Date.now(), cpu: who.map((w) => w.r.cpuMs() ?? 0), docs, host: hostCpuMs() };
    };
    interface Window {
      ticksRead: number;
      cpu: number;
      windowS: number;
      routed: number;
      unowned: number;
      hostBusy: number;
      shards: number;
    }
    const windows = new Map<string, Window[]>();
    for (let run = 0; run < s.costRuns; run++) {
      // Rates interleaved, so that drift on a shared machine hits each alike.
      for (const rate of s.costRates) {
        flow = await TickFlow.start(s.brokers, ticks, rate);
        // Past the flow's start (the runners' code paths warm, the producer's connections open).
        await sleep(3000);
        const w0 = await read();
        await sleep(s.costSeconds * 1000);
        const w1 = await read();
        await flow.stop();
        if (flow.failed > 0) throw new Error(`cost: the tick flow lost ${flow.failed} ticks: ${flow.lastError}`);
        flow = undefined;
        const windowS = (w1.t - w0.t) / 1000;
        const hostBusy = Math.round(((w1.host.busy - w0.host.busy) / Math.max(1, w1.host.total - w0.host.total)) * cpus().length * 100) / 100;
        const line: string[] = [];
        for (const [i, w] of who.entries()) {
          const d0 = w0.docs[i];
          const d1 = w1.docs[i];
          if (d0 === undefined || d1 === undefined) throw new Error(`cost: runner ${w.r.name} did not answer /status`);
          const counter = (d: RunnerStatus, k: string): number => d.consumer?.counters[k] ?? 0;
          const x: Window = {
            ticksRead: (d1.consumer?.fetch?.messages ?? 0) - (d0.consumer?.fetch?.messages ?? 0),
            cpu: w1.cpu[i]! - w0.cpu[i]!,
            windowS,
            routed: counter(d1, 'ticks') - counter(d0, 'ticks'),
            unowned: counter(d1, 'unownedTicks') - counter(d0, 'unownedTicks'),
            hostBusy,
            shards: d1.shards?.held.length ?? 0,
          };
          const key = `${rate}/${w.role}`;
          windows.set(key, [...(windows.get(key) ?? []), x]);
          line.push(`${w.role} ${((x.cpu * 1000) / x.ticksRead).toFixed(1)}`);
        }
        log(`  run ${run + 1} ${fmt(rate)} ticks/s: CPU µs per tick ${line.join(', ')} (host busy ${hostBusy} cores)`);
        // The runners drain what is left before the next window.
        await sleep(2000);
      }
    }
    const r1 = (x: number): number => Math.round(x * 10) / 10;
    const rows: CostRow[] = [];
    for (const rate of s.costRates) {
      for (const [i, w] of who.entries()) {
        const ws = windows.get(`${rate}/${w.role}`)!;
        const idleRate = (idle1.cpu[i]! - idle0.cpu[i]!) / idleS;
        const perTick = ws.map((x) => r1((x.cpu * 1000) / x.ticksRead));
        rows.push({
          measure: 'cost',
          rate,
          role: w.role,
          shards_held: ws[ws.length - 1]!.shards,
          strategies: w.strategies,
          ticks_read: ws.reduce((a, x) => a + x.ticksRead, 0),
          window_s: r1(ws.reduce((a, x) => a + x.windowS, 0)),
          cpu_ms: Math.round(ws.reduce((a, x) => a + x.cpu, 0)),
          cpu_us_per_tick: median(perTick),
          runs_cpu_us_per_tick: perTick,
          marginal_cpu_us_per_tick: median(ws.map((x) => r1(((x.cpu - idleRate * x.windowS) * 1000) / x.ticksRead))),
          cpu_share: median(ws.map((x) => Math.round((x.cpu / 1000 / x.windowS) * 1000) / 1000)),
          idle_cpu_ms_per_s: r1(idleRate),
          routed_ticks: ws.reduce((a, x) => a + x.routed, 0),
          unowned_ticks: ws.reduce((a, x) => a + x.unowned, 0),
          host_busy_cores: ws.map((x) => x.hostBusy),
        });
      }
    }
    return rows;
  } finally {
    await flow?.stop();
    await Promise.all([depAB.stop(), depC.stop()]);
  }
}

// ---------------------------------------------------------------- main

function settingsFrom(argv: string[] | undefined): Settings & { out: string | undefined; keepLogs: boolean; brokersGiven: string | undefined } {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      brokers: { type: 'string' },
      parts: { type: 'string' },
      runs: { type: 'string' },
      'session-timeouts': { type: 'string' },
      rate: { type: 'string' },
      shards: { type: 'string' },
      strategies: { type: 'string' },
      'settle-ms': { type: 'string' },
      'max-lag-ms': { type: 'string' },
      'throughput-ticks': { type: 'string' },
      'throughput-runs': { type: 'string' },
      layouts: { type: 'string' },
      'heavy-strategies': { type: 'string' },
      'heavy-work': { type: 'string' },
      'cost-seconds': { type: 'string' },
      'cost-rates': { type: 'string' },
      'cost-runs': { type: 'string' },
      'idle-seconds': { type: 'string' },
      partitions: { type: 'string' },
      pool: { type: 'string' },
      'keep-logs': { type: 'boolean', default: false },
    },
  });
  const quick = values.quick;
  const list = (v: string | undefined, d: string): string[] => (v ?? d).split(',').map((x) => x.trim()).filter(Boolean);
  const parts = list(values.parts, PARTS.join(','));
  for (const p of parts) if (!(PARTS as readonly string[]).includes(p)) throw new Error(`--parts: unknown part '${p}' (known: ${PARTS.join(', ')})`);
  const layouts = list(values.layouts, quick ? '1x2,2x2' : '1x2,2x2,2x1').map((l) => {
    const m = /^(\d+)x(\d+)$/.exec(l);
    if (m === null) throw new Error(`--layouts: '${l}' is not RUNNERSxPOOL (e.g. 2x1)`);
    return { runners: Number(m[1]), pool: Number(m[2]) };
  });
  return {
    quick,
    out: values.out,
    keepLogs: values['keep-logs'],
    brokersGiven: values.brokers,
    brokers: [],
    parts: new Set(parts as Part[]),
    runs: Number(values.runs ?? (quick ? 3 : 5)),
    sessionTimeouts: list(values['session-timeouts'], quick ? '6000' : '6000,10000').map(Number),
    rate: Number(values.rate ?? 3000),
    shards: Number(values.shards ?? 32),
    strategies: Number(values.strategies ?? 48),
    settleMs: Number(values['settle-ms'] ?? 2000),
    maxLagMs: Number(values['max-lag-ms'] ?? 500),
    throughputTicks: Number(values['throughput-ticks'] ?? (quick ? 60_000 : 300_000)),
    throughputRuns: Number(values['throughput-runs'] ?? (quick ? 1 : 3)),
    layouts,
    heavyStrategies: Number(values['heavy-strategies'] ?? 256),
    heavyWork: Number(values['heavy-work'] ?? 1000),
    costSeconds: Number(values['cost-seconds'] ?? (quick ? 15 : 20)),
    costRuns: Number(values['cost-runs'] ?? (quick ? 1 : 3)),
    costRates: list(values['cost-rates'], quick ? '3000' : '3000,20000').map(Number),
    idleSeconds: Number(values['idle-seconds'] ?? (quick ? 5 : 10)),
    partitions: Number(values.partitions ?? 6),
    pool: Number(values.pool ?? 2),
  };
}

function printTables(rows: readonly Row[]): void {
  const fo = rows.filter((r): r is FailoverRow => r.measure === 'failover');
  if (fo.length > 0) {
    process.stdout.write(`\n${'session timeout'.padEnd(17)}${'event'.padEnd(15)}${'n'.padStart(3)}${'median ms'.padStart(11)}${'min'.padStart(8)}${'max'.padStart(8)}${'1st acquired'.padStart(14)}  runs (ms)\n`);
    for (const r of fo) {
      process.stdout.write(`${`${fmt(r.session_timeout_ms)} ms`.padEnd(17)}${r.event.padEnd(15)}${String(r.runs.length).padStart(3)}${fmt(r.median_ms).padStart(11)}${fmt(r.min_ms).padStart(8)}${fmt(r.max_ms).padStart(8)}${(r.median_first_acquired_ms === null ? '-' : fmt(r.median_first_acquired_ms)).padStart(14)}  ${r.runs.map(fmt).join(', ')}\n`);
    }
  }
  const tp = rows.filter((r): r is ThroughputRow => r.measure === 'throughput');
  if (tp.length > 0) {
    process.stdout.write(`\n${'runners x pool'.padEnd(16)}${'ticks'.padStart(9)}${'ticks/s'.padStart(10)}${'steady'.padStart(9)}${'vs 1 runner'.padStart(13)}${'CPU µs/tick'.padStart(13)}${'steady'.padStart(8)}${'cores used'.padStart(12)}${'host busy'.padStart(11)}  runs\n`);
    for (const r of tp) {
      process.stdout.write(
        `${`${r.runners} x ${r.pool}`.padEnd(16)}${fmt(r.ticks).padStart(9)}${fmt(r.ticks_per_s).padStart(10)}${(r.steady_ticks_per_s === null ? '-' : fmt(r.steady_ticks_per_s)).padStart(9)}${(r.ratio_to_one_runner === undefined ? '-' : `${r.ratio_to_one_runner.toFixed(2)}×`).padStart(13)}${median(r.cpu_us_per_tick).toFixed(1).padStart(13)}${(medianOrNull(r.steady_cpu_us_per_tick)?.toFixed(1) ?? '-').padStart(8)}${median(r.runner_cores).toFixed(2).padStart(12)}${median(r.host_busy_cores).toFixed(2).padStart(11)}  ${r.runs.map(fmt).join(', ')}\n`,
      );
    }
  }
  const co = rows.filter((r): r is CostRow => r.measure === 'cost');
  if (co.length > 0) {
    process.stdout.write(`\n${'ticks/s'.padStart(8)}  ${'runner'.padEnd(32)}${'shards'.padStart(7)}${'ticks read'.padStart(12)}${'CPU µs/tick'.padStart(13)}${'marginal'.padStart(10)}${'core share'.padStart(12)}${'idle ms/s'.padStart(11)}  runs\n`);
    for (const r of co) {
      process.stdout.write(`${fmt(r.rate).padStart(8)}  ${r.role.padEnd(32)}${String(r.shards_held).padStart(7)}${fmt(r.ticks_read).padStart(12)}${r.cpu_us_per_tick.toFixed(1).padStart(13)}${r.marginal_cpu_us_per_tick.toFixed(1).padStart(10)}${`${(r.cpu_share * 100).toFixed(1)}%`.padStart(12)}${r.idle_cpu_ms_per_s.toFixed(1).padStart(11)}  ${r.runs_cpu_us_per_tick.join(', ')}\n`);
    }
  }
}

async function main(): Promise<void> {
  const loadBefore = loadavg().map((x) => Math.round(x * 100) / 100);
  const s = settingsFrom(undefined);
  const broker = useBroker(s.brokersGiven);
  s.brokers = broker.brokers;
  const prefix = uniqueName('bench-scale');
  const shared = { fills: `${prefix}.orders.filled`, deadLetter: `${prefix}.dlq`, signals: `${prefix}.{broker}.signals.raw` };
  const created: string[] = [shared.fills, shared.deadLetter, `${prefix}.paper.signals.raw`];
  const dir = mkdtempSync(join(tmpdir(), 'sr-bench-scale-out-'));
  const rows: Row[] = [];
  let ok = false;
  const t0 = Date.now();
  try {
    await createTopics(s.brokers, [
      { topic: shared.fills, partitions: 1 },
      { topic: shared.deadLetter, partitions: 1 },
      { topic: `${prefix}.paper.signals.raw`, partitions: 3 },
    ]);
    if (s.parts.has('failover')) rows.push(...(await failover(s, shared, prefix, dir, created)));
    if (s.parts.has('throughput')) rows.push(...(await throughput(s, shared, prefix, dir, created)));
    if (s.parts.has('cost')) rows.push(...(await cost(s, shared, prefix, dir, created)));
    ok = true;
  } finally {
    await deleteTopics(s.brokers, created);
    broker.stop();
    if (ok && !s.keepLogs) rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`runner configurations and logs: ${dir}\n`);
  }
  printTables(rows);
  const settings = {
    parts: [...s.parts],
    runs: s.runs,
    session_timeouts_ms: s.sessionTimeouts,
    release_timeout_ms: 5000,
    rate: s.rate,
    shards: s.shards,
    partitions: s.partitions,
    pool: s.pool,
    strategies: s.strategies,
    strategy: 'BenchTrivial (signal every 1,000th tick per strategy), 50 of 1,000 instruments each',
    settle_ms: s.settleMs,
    max_lag_ms: s.maxLagMs,
    max_lag_ticks: Math.max(50, Math.round((s.rate * s.maxLagMs) / 1000)),
    poll_ms: 100,
    throughput_ticks: s.throughputTicks,
    throughput_runs: s.throughputRuns,
    layouts: s.layouts.map((l) => `${l.runners}x${l.pool}`),
    heavy_strategies: s.heavyStrategies,
    heavy_strategy: `BenchHeavy (work ${s.heavyWork}: about ${((s.heavyWork * 8.5) / 1000).toFixed(1)} µs per call on the benchmark host), 50 of 1,000 instruments each (a tick goes to ${((s.heavyStrategies * 50) / 1000).toFixed(1)} of them), ${Math.ceil(s.heavyStrategies / s.shards)} per shard`,
    cost_seconds: s.costSeconds,
    cost_rates: s.costRates,
    cost_runs: s.costRuns,
    idle_seconds: s.idleSeconds,
    runner: {
      all: { commitIntervalMs: 1000, hangTimeoutMs: 60_000, releaseTimeoutMs: 5000, heartbeatIntervalMs: 'sessionTimeoutMs / 5 (the runner)' },
      failover_and_cost: { warmupMessages: 10_000, overload: 'conflate' },
      throughput: { warmupMessages: 0, overload: 'hold', sessionTimeoutMs: 10_000 },
    },
    broker: { brokers: broker.brokers, started_by_bench: broker.started },
    wall_s: Math.round((Date.now() - t0) / 1000),
  };
  const out = s.out ?? join(HERE, '..', '..', 'bench', 'results', `scale-out-${s.quick ? 'quick' : 'full'}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ benchmark: 'scale-out', mode: s.quick ? 'quick' : 'full', at: new Date().toISOString(), machine: machine(), load_average: { before: loadBefore, after: loadavg().map((x) => Math.round(x * 100) / 100) }, settings, results: rows }, null, 2) + '\n');
  process.stdout.write(`results: ${out}\n`);
}

await main();
// librdkafka's native threads can hold the event loop briefly after disconnect: leave explicitly once everything is closed.
process.exit(0);
