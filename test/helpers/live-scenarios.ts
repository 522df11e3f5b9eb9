import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { parseStrategyConfigs, type StrategyConfigInput } from '../../src/config/strategy-config.js';
import { SignalSchema, type Signal } from '../../src/domain/signal.js';
import type { Tick } from '../../src/domain/tick.js';
import { StrategyRegistry } from '../../src/strategies/registry.js';
import { consumeUntil, produce } from './infra.js';
import { referenceSignals } from './reference.js';
import { FIXTURE_MODULES, FIXTURES } from './runtime.js';
import { CLI, eventually, serviceConfigInput, spawnRunner, strategyDatabase, testTopics } from './service.js';
import { randomWalk } from './ticks.js';

/** The strategies of the end-to-end runs: three of them, overlapping instruments, two brokers. */
export const LIVE_TOKENS = [256265, 260105, 738561, 408065];
export const LIVE_STRATEGIES: StrategyConfigInput[] = [
  { id: 'mom', strategy_type: 'SimpleMomentumStrategy', instruments: [256265, 260105], parameters: { lookback_period: 5, momentum_threshold: 0.002 } },
  { id: 'mr', strategy_type: 'MeanReversionStrategy', instruments: LIVE_TOKENS, parameters: { lookback_period: 10, deviation_threshold: 1.2 }, brokers: ['paper', 'zerodha'] },
  { id: 'stocks', strategy_type: 'SimpleMomentumStrategy', instruments: [738561, 408065], parameters: { lookback_period: 3, momentum_threshold: 0.003 } },
];

export const tickMessages = (ticks: readonly Tick[]) => ticks.map((t) => ({ key: String(t.instrument_token), value: t }));
export const parseConsumed = (values: { value: string }[]): Signal[] => values.map((m) => SignalSchema.parse(JSON.parse(m.value)));

/** What replay computes for these ticks (the reference, in one thread). */
export async function expectedSignals(ticks: readonly Tick[], rows: StrategyConfigInput[] = LIVE_STRATEGIES): Promise<Signal[]> {
  const registry = await StrategyRegistry.create(FIXTURE_MODULES, FIXTURES);
  return referenceSignals(registry, parseStrategyConfigs(rows, 'test').configs, ticks);
}

interface StatusDoc {
  totals: Record<string, number>;
  consumer: { partitions: { topic: string; lag: number; high_watermark: number }[]; counters: { warmupTicks: number; commits: number } };
}
const statusOf = (port: number): Promise<StatusDoc> => fetch(`http://127.0.0.1:${port}/status`).then((r) => r.json() as Promise<StatusDoc>);

/** Read every broker's signal topic until each signal of `want` has come out at least once. */
async function consumeAll(signalTopic: (broker: string) => string, want: readonly Signal[]): Promise<Signal[]> {
  const got: Signal[] = [];
  for (const broker of [...new Set(want.map((s) => s.broker))].sort()) {
    const wantIds = new Set(want.filter((s) => s.broker === broker).map((s) => s.signal_id));
    let read = 0;
    const seen = new Set<string>();
    const messages = await consumeUntil(signalTopic(broker), (m) => {
      for (; read < m.length; read++) seen.add(String(m[read]!.headers['signal-id']));
      return [...wantIds].every((id) => seen.has(id));
    });
    got.push(...parseConsumed(messages));
  }
  return got;
}

/**
 * `run` as a process, killed with SIGKILL part-way through 20,000 ticks and
 * started again: every signal replay computes comes out, and nothing else
 * (duplicates are allowed: at-least-once).
 */
export async function killMidStreamAndRestart(seed = 5): Promise<void> {
  const t = await testTopics(['paper', 'zerodha']);
  const db = await strategyDatabase(LIVE_STRATEGIES);
  const ticks = randomWalk(LIVE_TOKENS, 20_000, seed);
  const want = await expectedSignals(ticks);
  const cfg = serviceConfigInput(t, db.url, { dispatch: { maxBatchTicks: 64 } });
  const first = await spawnRunner({ ...cfg, kafka: { ...cfg.kafka, consumer: { commitIntervalMs: 100, fetchWaitMaxMs: 20, maxBatchSize: 64 } } });
  await produce(t.ticks, tickMessages(ticks));
  // Kill it while it is part-way through the stream, once the broker has
  // accepted a commit of its offsets (before that, the second process starts
  // from the beginning and has nothing to warm up from: on a busy host the
  // 2,000 ticks can come before the first commit's answer).
  await eventually('some ticks consumed and committed', async () => statusOf(first.port), (st) => st.totals['ticks']! >= 2000 && st.consumer.counters.commits >= 1);
  first.child.kill('SIGKILL');
  expect(await first.exited).toBe(null);

  const second = await spawnRunner(cfg);
  await eventually(
    'the rest consumed',
    async () => (await statusOf(second.port)).consumer.partitions,
    (parts) => {
      const ticksParts = parts.filter((p) => p.topic === t.ticks);
      return ticksParts.reduce((a, p) => a + p.high_watermark, 0) === 20_000 && ticksParts.every((p) => p.lag === 0);
    },
    60_000,
  );
  const got = await consumeAll(t.signalTopic, want);
  const gotIds = new Set(got.map((s) => s.signal_id));
  expect(want.filter((s) => !gotIds.has(s.signal_id))).toEqual([]);
  // Everything that came out is a signal replay computes, identical to it (duplicates are allowed: at-least-once).
  const wantById = new Map(want.map((s) => [s.signal_id, s]));
  expect(got.filter((s) => JSON.stringify(s) !== JSON.stringify(wantById.get(s.signal_id)))).toEqual([]);
  // The second process rebuilt the strategies' windows from ticks before its group's committed offsets.
  const st = await statusOf(second.port);
  expect(st.consumer.counters.warmupTicks).toBeGreaterThan(0);
  expect(st.totals['conflated_ticks']).toBe(0);
  second.child.kill('SIGTERM');
  expect(await second.exited).toBe(0);
}

const run = promisify(execFile);

/**
 * The same ticks through `run` (from Kafka) and through `replay` (from a
 * file): the live signals are exactly replay's, each once, in replay's
 * order per strategy and instrument.
 */
export async function liveEqualsReplay(seed: number, count = 12_000): Promise<void> {
  const t = await testTopics(['paper', 'zerodha']);
  const db = await strategyDatabase(LIVE_STRATEGIES);
  const ticks = randomWalk(LIVE_TOKENS, count, seed);
  const dir = mkdtempSync(join(tmpdir(), 'sr-parity-'));
  writeFileSync(join(dir, 'ticks.jsonl'), ticks.map((x) => JSON.stringify(x)).join('\n') + '\n');
  writeFileSync(join(dir, 'strategies.json'), JSON.stringify(LIVE_STRATEGIES));
  await run(process.execPath, [CLI, 'replay', '--ticks', join(dir, 'ticks.jsonl'), '--strategies', join(dir, 'strategies.json'), '--out', join(dir, 'replay.jsonl'), '--quiet', '--log-level', 'warn'], { maxBuffer: 64 << 20 });
  const replayed = readFileSync(join(dir, 'replay.jsonl'), 'utf8').trim().split('\n').map((l) => SignalSchema.parse(JSON.parse(l)));
  expect(replayed.length).toBeGreaterThan(100);

  const cfg = serviceConfigInput(t, db.url, { dispatch: { maxBatchTicks: 64 } });
  const live = await spawnRunner({ ...cfg, kafka: { ...cfg.kafka, consumer: { fetchWaitMaxMs: 20, maxBatchSize: 64 } } });
  await produce(t.ticks, tickMessages(ticks));
  const got = await consumeAll(t.signalTopic, replayed);
  const key = (s: Signal): string => JSON.stringify(s);
  expect(got.map(key).sort()).toEqual(replayed.map(key).sort());
  const order = (list: Signal[], id: string, token: number): string[] => list.filter((s) => s.strategy_id === id && s.instrument_token === token).map((s) => s.signal_id);
  for (const id of ['mom', 'mr', 'stocks']) for (const token of LIVE_TOKENS) expect(order(got.filter((s) => s.broker === 'paper'), id, token)).toEqual(order(replayed.filter((s) => s.broker === 'paper'), id, token));
  expect((await statusOf(live.port)).totals['conflated_ticks']).toBe(0);
  live.child.kill('SIGTERM');
  expect(await live.exited).toBe(0);
}
