import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { describe, expect, it, onTestFinished } from 'vitest';
import { SignalSchema } from '../../../src/domain/signal.js';
import { eventually, spawnRunner, strategyDatabase } from '../../helpers/service.js';

const KAFKA_SH = fileURLToPath(new URL('../../../scripts/test-env/kafka.sh', import.meta.url));
/** Clients this test made, kept reachable until the process ends (see KafkaInput's RETIRED_CLIENTS). */
const keep: unknown[] = [];

describe('broker outage', { timeout: 180_000 }, () => {
  it('broker unreachable: not ready while it is away, nothing lost, ready again when it is back', async () => {
    // A broker of its own, so that taking it away disturbs no other test.
    const stateDir = mkdtempSync(join(tmpdir(), 'sr-kafka-'));
    const env = { ...process.env, KAFKA_STATE_FILE: join(stateDir, 'state.env') };
    const sh = (cmd: string): string => execFileSync('bash', [KAFKA_SH, cmd], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const brokers = /KAFKA_BROKERS=(\S+)/.exec(sh('start'))![1]!;
    onTestFinished(() => void sh('stop'));
    const kafka = new KafkaJS.Kafka({ kafkaJS: { brokers: [brokers], logLevel: KafkaJS.logLevel.NOTHING } });
    const prefix = `out-${Date.now()}`;
    const topics = { ticks: `${prefix}.ticks`, fills: `${prefix}.fills`, deadLetter: `${prefix}.dlq`, signals: `${prefix}.{broker}.signals` };
    const admin = kafka.admin();
    keep.push(admin);
    await admin.connect();
    await admin.createTopics({ topics: [topics.ticks, topics.fills, topics.deadLetter, `${prefix}.paper.signals`].map((topic) => ({ topic, numPartitions: 1, replicationFactor: 1 })) });
    await admin.disconnect();
    const db = await strategyDatabase([{ id: 'a', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 1 } }]);
    // The runner as its own process, as in production (and so that a native crash would show as its exit).
    const runner = await spawnRunner({
      strategyModules: ['./strategies/faulty.mjs', './strategies/portfolio-aware.mjs'],
      postgres: { url: db.url },
      status: { port: 0 },
      kafka: { brokers: [brokers], groupId: `${prefix}.g`, topics, consumer: { commitIntervalMs: 200, fetchWaitMaxMs: 20 } },
    });
    const status = async (): Promise<{ totals: Record<string, number> }> => (await fetch(`http://127.0.0.1:${runner.port}/status`)).json() as never;
    const readyz = (): Promise<number> => fetch(`http://127.0.0.1:${runner.port}/readyz`).then((r) => r.status).catch(() => 0);
    const send = async (from: number, n: number): Promise<void> => {
      // A fresh producer each time: a disconnected client cannot connect again.
      const producer = kafka.producer({ kafkaJS: { acks: -1 } });
      keep.push(producer);
      await producer.connect();
      await producer.send({ topic: topics.ticks, messages: Array.from({ length: n }, (_, i) => ({ key: '1', value: JSON.stringify({ instrument_token: 1, last_price: 100 + from + i, timestamp: from + i }) })) });
      await producer.disconnect();
    };
    await send(0, 100);
    await eventually('first signals', async () => (await status()).totals['signals'], (n) => n === 100, 30_000);

    sh('pause');
    await eventually('not ready while the broker is away', readyz, (s) => s === 503, 40_000);
    expect(runner.child.exitCode).toBe(null);
    sh('resume');
    await send(100, 100);
    await eventually('ready again', readyz, (s) => s === 200, 60_000);

    // Every tick produced one signal, and every signal reached the topic.
    const consumer = kafka.consumer({ kafkaJS: { groupId: `${prefix}.reader`, fromBeginning: true, autoCommit: false } });
    keep.push(consumer);
    const prices = new Set<number>();
    await consumer.connect();
    await consumer.subscribe({ topics: [`${prefix}.paper.signals`] });
    await consumer.run({ eachMessage: async ({ message }) => void prices.add(SignalSchema.parse(JSON.parse(message.value!.toString())).price) });
    await eventually('all 200 signals', () => prices.size, (n) => n === 200, 60_000);
    await consumer.disconnect();
    runner.child.kill('SIGTERM');
    expect(await runner.exited).toBe(0);
  });
});
