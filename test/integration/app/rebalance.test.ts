import { describe, expect, it } from 'vitest';
import { parseStrategyConfigs, type StrategyConfigInput } from '../../../src/config/strategy-config.js';
import { SignalSchema, type Signal } from '../../../src/domain/signal.js';
import { StrategyRegistry } from '../../../src/strategies/registry.js';
import { kafka, produce } from '../../helpers/infra.js';
import { retain } from '../../helpers/private-broker.js';
import { referenceSignals } from '../../helpers/reference.js';
import { FIXTURE_MODULES, FIXTURES } from '../../helpers/runtime.js';
import { eventually, serviceConfigInput, spawnRunner, strategyDatabase, testTopics } from '../../helpers/service.js';
import { compareSignals, describeComparison } from '../../helpers/signal-check.js';
import { randomWalk } from '../../helpers/ticks.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface RunnerStatus {
  consumer: { counters: Record<string, number>; assignment: unknown[]; partitions: { topic: string; lag: number; high_watermark: number }[] };
}

describe('rebalance', { timeout: 180_000 }, () => {
  it('partitions taken by another group member and given back: the runner resumes where it was, re-warms with what the other member processed, and never emits a signal twice with different content', async () => {
    const TOKENS = [256265, 260105, 738561, 408065];
    const rows: StrategyConfigInput[] = [
      { id: 'mom', strategy_type: 'SimpleMomentumStrategy', instruments: [256265, 260105], parameters: { lookback_period: 5, momentum_threshold: 0.002 } },
      { id: 'mr', strategy_type: 'MeanReversionStrategy', instruments: TOKENS, parameters: { lookback_period: 10, deviation_threshold: 1.2 } },
    ];
    const t = await testTopics(['paper'], 3);
    const db = await strategyDatabase(rows);
    const ticks = randomWalk(TOKENS, 12_000, 23);
    const reference = referenceSignals(await StrategyRegistry.create(FIXTURE_MODULES, FIXTURES), parseStrategyConfigs(rows, 'test').configs, ticks);
    const runner = await spawnRunner(serviceConfigInput(t, db.url, { kafka: { consumer: { commitIntervalMs: 200, fetchWaitMaxMs: 20, maxBatchSize: 64, sessionTimeoutMs: 6000 } } as never }));
    const status = async (): Promise<RunnerStatus> => (await fetch(`http://127.0.0.1:${runner.port}/status`)).json() as never;

    let sent = 0;
    const flow = (async () => {
      for (const chunk = 100; sent < ticks.length; sent += chunk) {
        await produce(t.ticks, ticks.slice(sent, sent + chunk).map((x) => ({ key: String(x.instrument_token), value: x })));
        await sleep(40);
      }
    })();
    await sleep(2000);

    // Another member of the runner's group (as a second runner would be) takes partitions, processes
    // and commits what it reads, then leaves.
    const foreignTicks = new Set<string>();
    const other = kafka().consumer({ kafkaJS: { groupId: t.groupId, fromBeginning: true, autoCommit: false }, 'session.timeout.ms': 6000 });
    retain(other);
    await other.connect();
    await other.subscribe({ topics: [t.ticks] });
    await other.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const tick = JSON.parse(m.value!.toString()) as { instrument_token: number; timestamp: number };
          foreignTicks.add(`${tick.instrument_token}@${tick.timestamp}`);
        }
        const last = batch.messages.at(-1);
        if (last !== undefined) await other.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(Number(last.offset) + 1) }]);
      },
    });
    await eventually('the other member holds partitions', () => foreignTicks.size, (n) => n > 200, 30_000);
    await other.disconnect();
    await eventually('every partition back with the runner', async () => (await status()).consumer.assignment.length, (n) => n === 3, 30_000);
    await flow;

    await eventually(
      'every tick consumed',
      async () => (await status()).consumer.partitions.filter((p) => p.topic === t.ticks),
      (parts) => parts.reduce((a, p) => a + p.high_watermark, 0) === ticks.length && parts.every((p) => p.lag === 0),
      60_000,
    );
    const st = await status();
    expect(st.consumer.counters['revocations']).toBeGreaterThan(0);

    const kc = kafka();
    const got: Signal[] = [];
    const reader = kc.consumer({ kafkaJS: { groupId: `${t.groupId}.reader`, fromBeginning: true, autoCommit: false } });
    retain(reader);
    // The runner's signals, and what it must have published: every reference signal of a tick the other member did not take.
    const want = reference.filter((s) => !foreignTicks.has(`${s.instrument_token}@${s.tick_timestamp}`));
    await reader.connect();
    await reader.subscribe({ topics: [t.signalTopic('paper')] });
    await reader.run({ eachMessage: async ({ message }) => void got.push(SignalSchema.parse(JSON.parse(message.value!.toString()))) });
    await eventually('the runner published what it owes', () => compareSignals(got, want).missing.length, (n) => n === 0, 30_000).catch(() => undefined);
    await sleep(500);
    await reader.disconnect();
    // Nothing outside the reference, one content per id, nothing missing (signals of ticks the runner
    // processed before the other member took over are allowed: at-least-once).
    const cmp = compareSignals(got, reference);
    const owed = compareSignals(got, want);
    expect(describeComparison({ ...cmp, missing: owed.missing })).toEqual(describeComparison({ missing: [], extra: [], conflicting: [], wrong: [], duplicates: 0 }));
    // It re-warmed with the ticks the other member processed.
    expect(st.consumer.counters['warmupTicks']).toBeGreaterThan(0);
    runner.child.kill('SIGTERM');
    expect(await runner.exited).toBe(0);
  });
});
