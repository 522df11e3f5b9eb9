import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parseStrategyConfigs, type StrategyConfigInput } from '../../../src/config/strategy-config.js';
import type { ServiceConfigInput } from '../../../src/config/service-config.js';
import { SignalSchema, type Signal } from '../../../src/domain/signal.js';
import type { Tick } from '../../../src/domain/tick.js';
import { StrategyRegistry } from '../../../src/strategies/registry.js';
import { consumeUntil, kafka, produce } from '../../helpers/infra.js';
import { referenceSignals } from '../../helpers/reference.js';
import { FIXTURE_MODULES, FIXTURES } from '../../helpers/runtime.js';
import { CLI, eventually, serviceConfigInput, spawnRunner, strategyDatabase, testTopics, type TestTopics } from '../../helpers/service.js';
import { randomWalk } from '../../helpers/ticks.js';

/**
 * How `strategy-runner run` ends under a process manager: systemd sends
 * SIGTERM, pm2 SIGINT; a second signal forces the exit; a strategy that does
 * not stop is cut off at shutdown.deadlineMs. Each test runs the compiled CLI
 * as a child process against the test broker and database.
 */

// spawnRunner joins every module path onto test/fixtures/, so this one is relative to it.
const SLOW_MODULE = '../integration/app/fixtures/slow-stop.mjs';

const TOKENS = [256265, 260105, 738561, 408065];
const STRATEGIES: StrategyConfigInput[] = [
  { id: 'mom', strategy_type: 'SimpleMomentumStrategy', instruments: [256265, 260105], parameters: { lookback_period: 5, momentum_threshold: 0.002 } },
  { id: 'mr', strategy_type: 'MeanReversionStrategy', instruments: TOKENS, parameters: { lookback_period: 10, deviation_threshold: 1.2 }, brokers: ['paper', 'zerodha'] },
  { id: 'stocks', strategy_type: 'SimpleMomentumStrategy', instruments: [738561, 408065], parameters: { lookback_period: 3, momentum_threshold: 0.003 } },
];
const BROKERS = ['paper', 'zerodha'];

const tickMessages = (ticks: readonly Tick[]) => ticks.map((t) => ({ key: String(t.instrument_token), value: t }));

async function expected(ticks: readonly Tick[], rows = STRATEGIES): Promise<Signal[]> {
  const registry = await StrategyRegistry.create(FIXTURE_MODULES, FIXTURES);
  return referenceSignals(registry, parseStrategyConfigs(rows, 'test').configs, ticks);
}

/**
 * The group's committed offset per partition of a topic (partitions without
 * a commit are left out) and the end of each partition.
 */
async function offsets(groupId: string, topic: string): Promise<{ committed: Map<number, number>; ends: Map<number, number> }> {
  const admin = kafka().admin();
  // Committed offsets through a consumer handle of the group that never subscribes (it does not join the
  // group): the admin client's fetchOffsets can crash the process (docs/kafka.md).
  const reader = kafka().consumer({ kafkaJS: { groupId, autoCommit: false } });
  await admin.connect();
  await reader.connect();
  try {
    const ends = new Map((await admin.fetchTopicOffsets(topic)).map((e) => [e.partition, Number(e.high)]));
    const committed = new Map<number, number>();
    // The client gives null for "no commit" (and for a commit at 0).
    for (const c of await reader.committed([...ends.keys()].map((partition) => ({ topic, partition })), 10_000)) if (c.offset !== null && Number(c.offset) >= 0) committed.set(c.partition, Number(c.offset));
    return { committed, ends };
  } finally {
    await reader.disconnect();
    await admin.disconnect();
  }
}

/** Every message of a topic: read until the count reaches the sum of its partitions' ends. */
async function readAll(topic: string): Promise<Signal[]> {
  const { ends } = await offsets('nobody', topic);
  const total = [...ends.values()].reduce((a, b) => a + b, 0);
  const messages = total === 0 ? [] : await consumeUntil(topic, (m) => m.length >= total);
  expect(messages).toHaveLength(total);
  return messages.map((m) => SignalSchema.parse(JSON.parse(m.value)));
}

interface Status {
  totals: { ticks: number };
  consumer: { partitions: { topic: string; next_offset: number; high_watermark: number; lag: number }[] };
  threads: { state: string; queue_depth: number }[];
}
const statusOf = async (port: number): Promise<Status> => (await fetch(`http://127.0.0.1:${port}/status`).then((r) => r.json())) as Status;

/** Log lines the child writes from now on (spawnRunner keeps its own copy of what came before). */
function logLines(child: ChildProcess): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  let rest = '';
  child.stdout!.on('data', (d: Buffer) => {
    const parts = (rest + d.toString()).split('\n');
    rest = parts.pop()!;
    for (const p of parts) {
      try {
        lines.push(JSON.parse(p) as Record<string, unknown>);
      } catch {
        /* not a log line */
      }
    }
  });
  return lines;
}

/** The log as text, for failure messages. */
function logText(lines: readonly Record<string, unknown>[]): string {
  return lines
    .map((l) => {
      const err = (l['err'] as { message?: string } | undefined)?.message;
      const extra = Object.entries(l).filter(([k]) => ['step', 'exit_code', 'timed_out', 'signal', 'strategy_id'].includes(k));
      return `  ${String(l['time'] ?? '')} ${String(l['level'] ?? '')} ${String(l['msg'])}${err ? `: ${err}` : ''}${extra.length ? ` ${JSON.stringify(Object.fromEntries(extra))}` : ''}`;
    })
    .join('\n');
}

/**
 * The exit code, how long after `since` it came, and the log since `lines`
 * was attached (for failure messages); fails if the process outlives `withinMs`.
 */
async function exitWithin(exited: Promise<number | null>, since: number, withinMs: number, lines: readonly Record<string, unknown>[]): Promise<{ code: number | null; ms: number; log: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), withinMs)));
  const r = await Promise.race([exited, timeout]);
  clearTimeout(timer);
  if (r === 'timeout') throw new Error(`the runner was still running ${withinMs} ms after the signal; its log:\n${logText(lines)}`);
  return { code: r, ms: Date.now() - since, log: `log of the runner:\n${logText(lines)}` };
}

/** A quiet configuration: commits only at shutdown (the periodic commit would hide a missing final commit). */
function quietConfig(t: TestTopics, url: string, extra: ServiceConfigInput = {}): ServiceConfigInput {
  const cfg = serviceConfigInput(t, url, extra);
  return { ...cfg, kafka: { ...cfg.kafka, consumer: { ...cfg.kafka!.consumer, commitIntervalMs: 600_000 } } };
}

describe('strategy-runner run: stopping on a signal', { timeout: 120_000 }, () => {
  it('SIGTERM mid-stream: exits 0 within the deadline, commits the offsets, and every signal of the committed ticks is delivered, nothing else', async () => {
    const t = await testTopics(BROKERS);
    const db = await strategyDatabase(STRATEGIES);
    const ticks = randomWalk(TOKENS, 20_000, 7);
    const cfg = quietConfig(t, db.url, { dispatch: { maxBatchTicks: 64 } });
    const runner = await spawnRunner({ ...cfg, kafka: { ...cfg.kafka, consumer: { ...cfg.kafka!.consumer, maxBatchSize: 64 } } });
    const lines = logLines(runner.child);
    await produce(t.ticks, tickMessages(ticks));
    await eventually('some ticks consumed', async () => (await statusOf(runner.port)).totals.ticks, (n) => n >= 2000);
    expect((await offsets(t.groupId, t.ticks)).committed.size).toBe(0);

    const t0 = Date.now();
    runner.child.kill('SIGTERM');
    const { code, ms, log } = await exitWithin(runner.exited, t0, 30_000, lines);
    expect(code, log).toBe(0);
    expect(ms, log).toBeLessThan(10_000); // shutdown.deadlineMs (default)
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'stopping', signal: 'SIGTERM' }));
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'strategy-runner stopped', exit_code: 0, timed_out: false }));

    // Which ticks were committed: those before the group's offset in their partition.
    const { committed } = await offsets(t.groupId, t.ticks);
    const onTopic = await consumeUntil(t.ticks, (m) => m.length >= ticks.length);
    expect(onTopic).toHaveLength(ticks.length);
    const committedTicks = new Set<string>();
    for (const m of onTopic) {
      if (Number(m.offset) < (committed.get(m.partition) ?? 0)) {
        const tick = JSON.parse(m.value) as Tick;
        committedTicks.add(`${tick.instrument_token}/${tick.timestamp}`);
      }
    }
    expect(committedTicks.size).toBeGreaterThanOrEqual(2000);

    // Ticks of one instrument share a partition, so each instrument's committed ticks are a prefix
    // of its series: the reference signals of those ticks are exactly what must have been delivered.
    const want = (await expected(ticks)).filter((s) => committedTicks.has(`${s.instrument_token}/${s.tick_timestamp}`));
    expect(want.length).toBeGreaterThan(0);
    const got = (await Promise.all(BROKERS.map((b) => readAll(t.signalTopic(b))))).flat();
    const ids = (list: Signal[]): string[] => list.map((s) => s.signal_id).sort();
    // Nothing lost, nothing for uncommitted ticks, no duplicate (idempotent producer, one process).
    expect(ids(got)).toEqual(ids(want));
    const wantById = new Map(want.map((s) => [s.signal_id, s]));
    expect(got.filter((s) => JSON.stringify(s) !== JSON.stringify(wantById.get(s.signal_id)))).toEqual([]);
  });

  it('SIGINT (how pm2 stops) after the stream is consumed: exits 0, commits to the end of every partition, all signals delivered', async () => {
    const t = await testTopics(BROKERS);
    const db = await strategyDatabase(STRATEGIES);
    const ticks = randomWalk(TOKENS, 3000, 13);
    const want = await expected(ticks);
    const runner = await spawnRunner(quietConfig(t, db.url));
    await produce(t.ticks, tickMessages(ticks));
    await eventually(
      'every tick consumed',
      async () => (await statusOf(runner.port)).consumer.partitions.filter((p) => p.topic === t.ticks),
      (parts) => parts.reduce((a, p) => a + p.next_offset, 0) === ticks.length && parts.every((p) => p.lag === 0),
    );
    // Nothing committed yet (commitIntervalMs is 10 minutes): the final commit must do it.
    expect((await offsets(t.groupId, t.ticks)).committed.size).toBe(0);

    const lines = logLines(runner.child);
    const t0 = Date.now();
    runner.child.kill('SIGINT');
    const { code, ms, log } = await exitWithin(runner.exited, t0, 30_000, lines);
    expect(code, log).toBe(0);
    expect(ms, log).toBeLessThan(10_000);
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'stopping', signal: 'SIGINT' }));

    const { committed, ends } = await offsets(t.groupId, t.ticks);
    for (const [partition, end] of ends) expect({ partition, committed: committed.get(partition) ?? 0 }).toEqual({ partition, committed: end });
    expect([...ends.values()].reduce((a, b) => a + b, 0)).toBe(ticks.length);
    const got = (await Promise.all(BROKERS.map((b) => readAll(t.signalTopic(b))))).flat();
    expect(got).toHaveLength(want.length);
    expect(new Set(got.map((s) => s.signal_id))).toEqual(new Set(want.map((s) => s.signal_id)));
  });

  it('a second signal during a slow shutdown exits at once with 130', async () => {
    const t = await testTopics();
    const db = await strategyDatabase([{ id: 'slow', strategy_type: 'SlowStop', instruments: [1] }]);
    const runner = await spawnRunner(serviceConfigInput(t, db.url, { strategyModules: [SLOW_MODULE] }));
    const lines = logLines(runner.child);
    runner.child.kill('SIGTERM');
    // onStop takes 60 s and the deadline is 10 s: once the stop is under way the runner is still stopping.
    await eventually('the stop under way', () => lines.some((l) => l['msg'] === 'stopping' && l['signal'] === 'SIGTERM'), (ok) => ok, 15_000);
    expect(runner.child.exitCode, logText(lines)).toBeNull();
    const t0 = Date.now();
    runner.child.kill('SIGTERM');
    const { code, ms, log } = await exitWithin(runner.exited, t0, 5000, lines);
    expect(code, log).toBe(130);
    expect(ms, log).toBeLessThan(2000);
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'second signal: exiting now' }));
  });

  it('a strategy whose onStop hangs is cut off at shutdown.deadlineMs: one SIGTERM, exit 1 shortly after the deadline', async () => {
    const deadlineMs = 1000;
    const t = await testTopics();
    const db = await strategyDatabase([
      { id: 'slow', strategy_type: 'SlowStop', instruments: [1] },
      { id: 'fine', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 1 } },
    ]);
    const runner = await spawnRunner(serviceConfigInput(t, db.url, { strategyModules: [...FIXTURE_MODULES, SLOW_MODULE], shutdown: { deadlineMs } }));
    const lines = logLines(runner.child);
    const t0 = Date.now();
    runner.child.kill('SIGTERM');
    const { code, ms, log } = await exitWithin(runner.exited, t0, deadlineMs + 10_000, lines);
    expect(code, log).toBe(1);
    expect(ms, log).toBeGreaterThanOrEqual(deadlineMs);
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'strategy-runner stopped', exit_code: 1, timed_out: true }));
  });

  it('a strategy stuck in onTick does not hold the process past the stop budget: exit 1 within 3 deadlines', async () => {
    // The deploy files give 3-4 deadlines before SIGKILL (TimeoutStopSec, kill_timeout):
    // the pipeline drain and the thread's drain and stop are each bounded by the deadline.
    const deadlineMs = 1000;
    const t = await testTopics();
    const db = await strategyDatabase([{ id: 'stuck', strategy_type: 'SlowTick', instruments: [2], parameters: { ms: 60_000 } }]);
    const runner = await spawnRunner(serviceConfigInput(t, db.url, { strategyModules: [SLOW_MODULE], shutdown: { deadlineMs } }));
    const lines = logLines(runner.child);
    await produce(t.ticks, [{ key: '2', value: { instrument_token: 2, last_price: 10, timestamp: 1 } }]);
    await eventually('the tick reached the stuck strategy', async () => (await statusOf(runner.port)).threads.map((th) => th.queue_depth), (q) => q.some((d) => d > 0));
    const t0 = Date.now();
    runner.child.kill('SIGTERM');
    const { code, ms, log } = await exitWithin(runner.exited, t0, 3 * deadlineMs + 10_000, lines);
    expect(code, log).toBe(1);
    expect(ms, log).toBeGreaterThanOrEqual(deadlineMs);
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'strategy-runner stopped', exit_code: 1 }));
    // The stuck tick was not committed: it is processed again after the restart.
    const { committed } = await offsets(t.groupId, t.ticks);
    expect([...committed.values()].reduce((a, b) => a + b, 0)).toBe(0);
  });

  it("tells pm2 it is ready (process.send('ready'), for wait_ready) once /readyz is 200", async () => {
    const t = await testTopics();
    const db = await strategyDatabase([{ id: 'a', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 1 } }]);
    // As pm2 forks it: with an IPC channel.
    const { child, exited, lines, stderr } = spawnCli(serviceConfigInput(t, db.url), true);
    const message = await new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no 'ready' message in 60 s\n${stderr()}`)), 60_000);
      child.on('message', (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      void exited.then((c) => reject(new Error(`exited with ${c} before 'ready'\n${stderr()}`)));
    });
    expect(message).toBe('ready');
    const port = Number((lines.find((l) => l['msg'] === 'status server listening') as { port?: number } | undefined)?.port);
    expect(port).toBeGreaterThan(0);
    // Ready as pm2 sees it is ready as /readyz sees it (the partition assignment may trail by a moment).
    await eventually('readyz', () => fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status), (s) => s === 200, 10_000);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });

  it('SIGTERM during start-up (systemctl stop while the readiness poll waits) still ends the process', async () => {
    const t = await testTopics();
    const db = await strategyDatabase([{ id: 'a', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 1 } }]);
    const { child, exited, lines } = spawnCli(serviceConfigInput(t, db.url), false);
    // Right after the configurations are read: the producer, topic check, threads and consumer are still to come.
    let t0 = 0;
    child.stdout!.on('data', () => {
      if (t0 === 0 && lines.some((l) => l['msg'] === 'strategy configurations loaded')) {
        t0 = Date.now();
        child.kill('SIGTERM');
      }
    });
    await eventually('the signal sent', () => t0, (x) => x > 0, 60_000);
    const { code, log } = await exitWithin(exited, t0, 15_000, lines);
    // A stop asked for during start-up is a stop: the process ends (0, or 1 when start-up reports it failed).
    expect([0, 1], log).toContain(code);
  });
});

/** `strategy-runner run` as a child process with this configuration, optionally with an IPC channel (as pm2 forks it). */
function spawnCli(input: ServiceConfigInput, ipc: boolean): { child: ChildProcess; exited: Promise<number | null>; lines: Record<string, unknown>[]; stderr: () => string } {
  const dir = mkdtempSync(join(tmpdir(), 'sr-cli-'));
  const cfgFile = join(dir, 'config.json');
  writeFileSync(cfgFile, JSON.stringify({ ...input, strategyModules: (input.strategyModules ?? []).map((m) => join(FIXTURES, m)), log: { level: 'info', format: 'json' } }));
  const child = spawn(process.execPath, [CLI, 'run', '--config', cfgFile], {
    stdio: ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, KAFKA_BROKERS: '', DATABASE_URL: '' },
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  const lines = logLines(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return { child, exited, lines, stderr: () => err };
}
