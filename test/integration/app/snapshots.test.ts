import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseStrategyConfigs, type StrategyConfigInput } from '../../../src/config/strategy-config.js';
import { SignalSchema, type Signal } from '../../../src/domain/signal.js';
import type { Tick } from '../../../src/domain/tick.js';
import type { ServiceConfigInput } from '../../../src/config/service-config.js';
import { StrategyRegistry } from '../../../src/strategies/registry.js';
import { runStrategy } from '../../../src/testing/index.js';
import { consumeUntil, produce } from '../../helpers/infra.js';
import { FIXTURES } from '../../helpers/runtime.js';
import { eventually, serviceConfigInput, spawnRunner, strategyDatabase, testTopics, type TestTopics } from '../../helpers/service.js';
import { randomWalk } from '../../helpers/ticks.js';

const TOKENS = [256265, 260105, 738561];
const ROWS: StrategyConfigInput[] = [
  { id: 'lm-a', strategy_type: 'LongMemory', instruments: [256265, 260105], parameters: { band: 0.001 } },
  { id: 'lm-b', strategy_type: 'LongMemory', instruments: [738561], parameters: { band: 0.0015 } },
];
const MODULES = ['./strategies/long-memory.mjs'];
const TOTAL = 15_000;

interface StatusDoc {
  totals: Record<string, number>;
  consumer: { partitions: { topic: string; lag: number; high_watermark: number; committed_offset: number | null }[]; counters: { warmupTicks: number; commits: number } };
  snapshots: { cuts: number; saved: number; loaded: number; stale: number; discarded: number } | null;
}
const statusOf = (port: number): Promise<StatusDoc> => fetch(`http://127.0.0.1:${port}/status`).then((r) => r.json() as Promise<StatusDoc>);
const tickMessages = (ticks: readonly Tick[]) => ticks.map((t) => ({ key: String(t.instrument_token), value: t }));

/** What an uninterrupted run gives: the test kit, strategy by strategy, over every tick. */
async function uninterrupted(ticks: readonly Tick[]): Promise<Signal[]> {
  const registry = await StrategyRegistry.create(MODULES, FIXTURES);
  const out: Signal[] = [];
  for (const c of parseStrategyConfigs(ROWS, 'test').configs) {
    const run = await runStrategy(registry.get(c.strategy_type)!, { id: c.id, params: c.parameters, instruments: c.instruments, brokers: c.brokers, ticks });
    out.push(...run.signals);
  }
  return out;
}

/**
 * 15,000 ticks; the runner is killed with SIGKILL after 10,000, some of them
 * after its last snapshot cut; a second runner finishes the stream. Returns
 * every signal that came out, and the second runner's status.
 */
async function killAndRestart(t: TestTopics, cfg: ServiceConfigInput, ticks: readonly Tick[], want: readonly Signal[]): Promise<{ got: Signal[]; second: StatusDoc; metrics: string }> {
  const first = await spawnRunner(cfg);
  await produce(t.ticks, tickMessages(ticks.slice(0, 8000)));
  const at8000 = await eventually('8,000 ticks consumed', () => statusOf(first.port), (st) => st.totals['ticks']! >= 8000);
  if (cfg.snapshots?.enabled !== false) {
    // A cut after those: the snapshot the second runner continues from.
    await eventually('a snapshot cut after them', () => statusOf(first.port), (st) => st.snapshots!.cuts > at8000.snapshots!.cuts, 30_000);
  }
  const cut = await statusOf(first.port);
  await produce(t.ticks, tickMessages(ticks.slice(8000, 11_000)));
  const committed = (st: StatusDoc): number => st.consumer.partitions.filter((p) => p.topic === t.ticks).reduce((a, p) => a + (p.committed_offset ?? 0), 0);
  const killed = await eventually('10,000 ticks consumed and committed', () => statusOf(first.port), (st) => st.totals['ticks']! >= 10_000 && committed(st) >= 10_000);
  first.child.kill('SIGKILL');
  // The ticks after the cut (2,000 and more, past the warm-up window) are in no snapshot: the restart must read back to the cut.
  if (cfg.snapshots?.enabled !== false) expect(killed.snapshots!.cuts).toBe(cut.snapshots!.cuts);
  expect(await first.exited).toBe(null);
  await produce(t.ticks, tickMessages(ticks.slice(11_000)));

  const second = await spawnRunner(cfg);
  await eventually(
    'the rest consumed',
    async () => (await statusOf(second.port)).consumer.partitions,
    (parts) => {
      const mine = parts.filter((p) => p.topic === t.ticks);
      return mine.reduce((a, p) => a + p.high_watermark, 0) === TOTAL && mine.every((p) => p.lag === 0);
    },
    60_000,
  );
  const wantIds = new Set(want.map((s) => s.signal_id));
  let read = 0;
  const seen = new Set<string>();
  // Until every wanted signal has come out (or the time-out: the control run never gets there).
  const messages = await consumeUntil(
    t.signalTopic('paper'),
    (m) => {
      for (; read < m.length; read++) seen.add(String(m[read]!.headers['signal-id']));
      return [...wantIds].every((id) => seen.has(id));
    },
    cfg.snapshots?.enabled === false ? 8000 : 30_000,
  );
  const st = await statusOf(second.port);
  const metrics = await fetch(`http://127.0.0.1:${second.port}/metrics`).then((r) => r.text());
  second.child.kill('SIGTERM');
  expect(await second.exited).toBe(0);
  return { got: messages.map((m) => SignalSchema.parse(JSON.parse(m.value))), second: st, metrics };
}

describe('strategy snapshots (run, Kafka + PostgreSQL)', { timeout: 240_000 }, () => {
  it('kill -9 and restart: a strategy whose lookback is its whole history gives the same signals as an uninterrupted run', async () => {
    const t = await testTopics(['paper'], 3);
    const db = await strategyDatabase(ROWS);
    const ticks = randomWalk(TOKENS, TOTAL, 11);
    const want = await uninterrupted(ticks);
    expect(want.length).toBeGreaterThan(20);
    const base = serviceConfigInput(t, db.url, { strategyModules: MODULES, dispatch: { maxBatchTicks: 64 }, snapshots: { intervalMs: 10_000 } });
    // A warm-up of 50 ticks per partition: far less than the history the strategies need.
    const cfg = { ...base, kafka: { ...base.kafka, consumer: { commitIntervalMs: 100, fetchWaitMaxMs: 20, maxBatchSize: 64, warmupMessages: 50 } } };
    const { got, second, metrics } = await killAndRestart(t, cfg, ticks, want);
    const wantById = new Map(want.map((s) => [s.signal_id, JSON.stringify(s)]));
    expect(want.filter((s) => !got.some((g) => g.signal_id === s.signal_id)).map((s) => s.signal_id)).toEqual([]);
    // Nothing else came out, and duplicates (at-least-once) are byte-identical.
    expect(got.filter((s) => wantById.get(s.signal_id) !== JSON.stringify(s))).toEqual([]);
    expect(second.snapshots).toMatchObject({ loaded: 2, stale: 0, discarded: 0 });
    // The warm-up reached back to the snapshots, beyond the 50 ticks per partition.
    expect(second.consumer.counters.warmupTicks).toBeGreaterThan(150);
    expect(metrics).toContain('strategy_runner_snapshot_events_total{event="loaded"} 2');
    const check = spawnSync('promtool', ['check', 'metrics'], { input: metrics, encoding: 'utf8' });
    expect(check.stdout + check.stderr).toBe('');
  });

  it('the control: without snapshots the same kill gives other signals (the test can tell)', async () => {
    const t = await testTopics(['paper'], 3);
    const db = await strategyDatabase(ROWS);
    const ticks = randomWalk(TOKENS, TOTAL, 11);
    const want = await uninterrupted(ticks);
    const base = serviceConfigInput(t, db.url, { strategyModules: MODULES, dispatch: { maxBatchTicks: 64 }, snapshots: { enabled: false } });
    const cfg = { ...base, kafka: { ...base.kafka, consumer: { commitIntervalMs: 100, fetchWaitMaxMs: 20, maxBatchSize: 64, warmupMessages: 50 } } };
    const { got, second } = await killAndRestart(t, cfg, ticks, want);
    const wantById = new Map(want.map((s) => [s.signal_id, JSON.stringify(s)]));
    const wrong = got.filter((s) => wantById.get(s.signal_id) !== JSON.stringify(s)).length;
    const missing = want.filter((s) => !got.some((g) => g.signal_id === s.signal_id)).length;
    expect(wrong + missing).toBeGreaterThan(0);
    expect(second.snapshots).toBeNull();
  });
});
