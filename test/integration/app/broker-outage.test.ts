import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseStrategyConfigs, type StrategyConfigInput } from '../../../src/config/strategy-config.js';
import { SignalSchema, type Signal } from '../../../src/domain/signal.js';
import type { Tick } from '../../../src/domain/tick.js';
import { StrategyRegistry } from '../../../src/strategies/registry.js';
import { PrivateBroker, retain } from '../../helpers/private-broker.js';
import { referenceSignals } from '../../helpers/reference.js';
import { FIXTURE_MODULES, FIXTURES } from '../../helpers/runtime.js';
import { CLI, eventually, spawnRunner, strategyDatabase } from '../../helpers/service.js';
import { compareSignals, describeComparison } from '../../helpers/signal-check.js';
import { randomWalk } from '../../helpers/ticks.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface RunnerStatus {
  totals: Record<string, number>;
  consumer: { counters: Record<string, number>; assignment: unknown[]; partitions: { topic: string; lag: number; high_watermark: number; next_offset: number | null }[] };
}

function topicsOf(prefix: string) {
  return { ticks: `${prefix}.ticks`, fills: `${prefix}.fills`, deadLetter: `${prefix}.dlq`, signals: `${prefix}.{broker}.signals` };
}

describe('broker outage', { timeout: 240_000 }, () => {
  it('broker unreachable: not ready while it is away, nothing lost, ready again when it is back', async () => {
    // A broker of its own, so that taking it away disturbs no other test.
    const broker = await PrivateBroker.start();
    const kafka = broker.kafka();
    const prefix = `out-${Date.now()}`;
    const topics = topicsOf(prefix);
    await broker.createTopics([topics.ticks, topics.fills, topics.deadLetter, `${prefix}.paper.signals`].map((topic) => ({ topic, partitions: 1 })));
    const db = await strategyDatabase([{ id: 'a', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 1 } }]);
    // The runner as its own process, as in production (and so that a native crash would show as its exit).
    const runner = await spawnRunner({
      strategyModules: ['./strategies/faulty.mjs', './strategies/portfolio-aware.mjs'],
      postgres: { url: db.url },
      status: { port: 0 },
      kafka: { brokers: [broker.brokers], groupId: `${prefix}.g`, topics, consumer: { commitIntervalMs: 200, fetchWaitMaxMs: 20 } },
    });
    const status = async (): Promise<{ totals: Record<string, number> }> => (await fetch(`http://127.0.0.1:${runner.port}/status`)).json() as never;
    const readyz = (): Promise<number> => fetch(`http://127.0.0.1:${runner.port}/readyz`).then((r) => r.status).catch(() => 0);
    const send = async (from: number, n: number): Promise<void> => {
      // A fresh producer each time: a disconnected client cannot connect again.
      const producer = kafka.producer({ kafkaJS: { acks: -1, idempotent: true } });
      retain(producer);
      await producer.connect();
      await producer.send({ topic: topics.ticks, messages: Array.from({ length: n }, (_, i) => ({ key: '1', value: JSON.stringify({ instrument_token: 1, last_price: 100 + from + i, timestamp: from + i }) })) });
      await producer.disconnect();
    };
    await send(0, 100);
    await eventually('first signals', async () => (await status()).totals['signals'], (n) => n === 100, 30_000);

    broker.pause();
    await eventually('not ready while the broker is away', readyz, (s) => s === 503, 40_000);
    expect(runner.child.exitCode).toBe(null);
    // And it says why, on /readyz, /status and in the status command's tables.
    const why = await eventually(
      'the reason: the broker does not answer',
      async () => (await (await fetch(`http://127.0.0.1:${runner.port}/readyz`)).json()) as { status: string; reasons: string[] },
      (b) => b.reasons.some((r) => r.startsWith('Kafka broker unreachable')),
      40_000,
    );
    expect(why.status).toBe('not ready');
    expect(why.reasons.join('\n')).toMatch(/^Kafka broker unreachable: no answer since \d{4}-\d\d-\d\dT.*Z \(\d+ s\)$/m);
    const doc = (await (await fetch(`http://127.0.0.1:${runner.port}/status`)).json()) as { readiness: { reasons: string[] }; consumer: { broker_reachable: boolean } };
    expect(doc.readiness.reasons).toContainEqual(expect.stringMatching(/^Kafka broker unreachable: no answer since /));
    expect(doc.consumer.broker_reachable).toBe(false);
    const table = execFileSync(process.execPath, [CLI, 'status', '--port', String(runner.port)], { encoding: 'utf8' });
    expect(table).toMatch(/^NOT READY: Kafka broker unreachable: no answer since /m);
    expect(table).toContain('broker reachable no (no answer since');
    broker.resume();
    await send(100, 100);
    await eventually('ready again', readyz, (s) => s === 200, 60_000);

    // Every tick produced one signal, and every signal reached the topic.
    await eventually('all 200 signals', async () => new Set((await broker.readAll(`${prefix}.paper.signals`)).map((m) => SignalSchema.parse(JSON.parse(m.value)).price)).size, (n) => n === 200, 60_000);
    runner.child.kill('SIGTERM');
    expect(await runner.exited).toBe(0);
  });

  it('broker away for longer than the session timeout, twice, while ticks flow: every signal as replay computes it, none twice with different content', async () => {
    const broker = await PrivateBroker.start();
    const kafka = broker.kafka();
    const prefix = `sess-${Date.now()}`;
    const topics = topicsOf(prefix);
    await broker.createTopics([
      { topic: topics.ticks, partitions: 3 },
      ...[topics.fills, topics.deadLetter, `${prefix}.paper.signals`].map((topic) => ({ topic, partitions: 1 })),
    ]);
    const TOKENS = [256265, 260105, 738561, 408065];
    const rows: StrategyConfigInput[] = [
      { id: 'mom', strategy_type: 'SimpleMomentumStrategy', instruments: [256265, 260105], parameters: { lookback_period: 5, momentum_threshold: 0.002 } },
      { id: 'mr', strategy_type: 'MeanReversionStrategy', instruments: TOKENS, parameters: { lookback_period: 10, deviation_threshold: 1.2 } },
      { id: 'stocks', strategy_type: 'SimpleMomentumStrategy', instruments: [738561, 408065], parameters: { lookback_period: 3, momentum_threshold: 0.003 } },
    ];
    const db = await strategyDatabase(rows);
    const ticks = randomWalk(TOKENS, 24_000, 11);
    const want = referenceSignals(await StrategyRegistry.create(FIXTURE_MODULES, FIXTURES), parseStrategyConfigs(rows, 'test').configs, ticks);

    // The smallest session timeout the broker accepts, and no commit during the run (the interval is
    // longer than the test): when the session expires and the partitions come back, the group's
    // committed offsets are far below what the runner has dispatched, as they are whenever a commit
    // did not get through before the session expired (commits follow acknowledgements, which wait
    // for the broker too).
    const runner = await spawnRunner({
      strategyModules: ['./strategies/faulty.mjs', './strategies/portfolio-aware.mjs'],
      postgres: { url: db.url },
      status: { port: 0 },
      kafka: { brokers: [broker.brokers], groupId: `${prefix}.g`, topics, consumer: { commitIntervalMs: 600_000, fetchWaitMaxMs: 20, sessionTimeoutMs: 6000, maxBatchSize: 64 } },
    });
    const status = async (): Promise<RunnerStatus> => (await fetch(`http://127.0.0.1:${runner.port}/status`)).json() as never;

    // Ticks flow all along, in order per instrument (idempotent producer); sends wait out the outages.
    const producer = kafka.producer({ kafkaJS: { acks: -1, idempotent: true }, 'message.timeout.ms': 0, 'linger.ms': 5 });
    retain(producer);
    await producer.connect();
    let sent = 0;
    const sends: Promise<unknown>[] = [];
    const flow = (async () => {
      const chunk = 60;
      for (; sent < ticks.length; sent += chunk) {
        const part = ticks.slice(sent, sent + chunk);
        sends.push(producer.send({ topic: topics.ticks, messages: part.map((t: Tick) => ({ key: String(t.instrument_token), value: JSON.stringify(t) })) }));
        await sleep(50); // about 1,200 ticks/s while the broker answers
      }
    })();
    const lostBefore = async (): Promise<number> => (await status()).consumer.counters['lostPartitions'] ?? 0;

    await sleep(3000);
    // Twice frozen (SIGSTOP: sockets open, nothing answers) for longer than the session timeout: the
    // client reports its partitions lost and is assigned them again.
    for (let round = 1; round <= 2; round++) {
      const lost = await lostBefore();
      broker.freeze();
      await sleep(11_000);
      broker.thaw();
      await eventually(`partitions lost after freeze ${round}`, lostBefore, (n) => n > lost, 60_000);
      await eventually(`partitions assigned again after freeze ${round}`, async () => (await status()).consumer.assignment.length, (n) => n === 3, 60_000);
      await sleep(2000);
    }
    // Then killed and restarted on the same data (the group survives a coordinator restart).
    broker.pause();
    await sleep(8000);
    broker.resume();
    await flow;
    await Promise.all(sends);
    await producer.disconnect();

    await eventually(
      'every tick consumed',
      async () => (await status()).consumer.partitions.filter((p) => p.topic === topics.ticks),
      (parts) => parts.reduce((a, p) => a + p.high_watermark, 0) === ticks.length && parts.every((p) => p.lag === 0),
      90_000,
    );
    expect(runner.child.exitCode).toBe(null);
    const st = await status();
    const got: Signal[] = [];
    await eventually(
      'every expected signal published',
      async () => {
        got.length = 0;
        for (const m of await broker.readAll(`${prefix}.paper.signals`)) got.push(SignalSchema.parse(JSON.parse(m.value)));
        return compareSignals(got, want).missing.length;
      },
      (n) => n === 0,
      60_000,
    ).catch(() => undefined);
    const cmp = compareSignals(got, want);
    expect(describeComparison(cmp)).toEqual(describeComparison({ missing: [], extra: [], conflicting: [], wrong: [], duplicates: 0 }));
    // The strategies saw every tick exactly once: the live count is the stream, plus nothing.
    expect(st.totals['ticks']).toBeGreaterThanOrEqual(ticks.length);
    expect(st.consumer.counters['ticks']).toBe(ticks.length);
    runner.child.kill('SIGTERM');
    expect(await runner.exited).toBe(0);
  });
});
