import pino from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { InputEvent, TickBatch } from '../../../../src/ports.js';
import { KafkaConfigSchema, type KafkaConfig } from '../../../../src/transport/kafka/kafka-config.js';
import { KafkaInput } from '../../../../src/transport/kafka/kafka-input.js';
import type { DeadLetter } from '../../../../src/transport/kafka/kafka-signal-sink.js';
import { createTopics, kafka, kafkaBrokers, produce, unique } from '../../../helpers/infra.js';
import { eventually } from '../../../helpers/service.js';

const tick = (price: number, i: number): Record<string, unknown> => ({ instrument_token: 1, last_price: price, timestamp: 1_700_000_000_000 + i });
const fill = (id: string): Record<string, unknown> => ({ fill_id: id, strategy_id: 's', instrument_token: 1, side: 'BUY', quantity: 1, price: 10, timestamp: 1_700_000_000_000 });

async function topicsFor(p: string): Promise<KafkaConfig['topics']> {
  const topics = { ticks: `${p}.ticks`, fills: `${p}.fills`, deadLetter: `${p}.dlq`, signals: `${p}.{broker}.signals` };
  await createTopics([topics.ticks, topics.fills]);
  return topics;
}

/** A started input whose events are collected; tick batches are acknowledged at once (as a pipeline whose signals are all delivered). */
async function started(config: KafkaConfig): Promise<{ input: KafkaInput; events: InputEvent[]; dead: DeadLetter[] }> {
  const dead: DeadLetter[] = [];
  const input = new KafkaInput({ config, logger: pino({ level: 'silent' }), deadLetter: async (d) => void dead.push(d) });
  onTestFinished(() => input.close());
  const events: InputEvent[] = [];
  void (async () => {
    for await (const e of input.events()) {
      events.push(e);
      if (e.kind === 'ticks') e.onDelivered?.();
    }
  })().catch(() => {});
  await input.checkTopics([config.topics.ticks, config.topics.fills], config.createTopics);
  await input.start();
  return { input, events, dead };
}

const live = (events: InputEvent[]): number[] => events.flatMap((e) => (e.kind === 'ticks' && e.warmup !== true ? e.ticks.map((t) => t.last_price) : []));
const warm = (events: InputEvent[]): number[] => events.flatMap((e) => (e.kind === 'ticks' && e.warmup === true ? e.ticks.map((t) => t.last_price) : []));

describe('KafkaInput against the broker', () => {
  it('fills first, then ticks; bad records dead-lettered; offsets committed after delivery; a restart warms up below the commit', async () => {
    const p = unique('ki');
    const topics = await topicsFor(p);
    await produce(topics.fills, [{ key: 's', value: fill('f1') }, { key: 's', value: 'not json' }, { key: 's', value: fill('f2') }]);
    await produce(topics.ticks, [...[1, 2, 3, 4, 5].map((x, i) => ({ key: '1', value: tick(x, i) })), { key: '1', value: '{"instrument_token":1}' }, { key: '1', value: tick(6, 6) }]);
    const config = KafkaConfigSchema.parse({ brokers: kafkaBrokers(), groupId: `${p}.g`, topics, consumer: { commitIntervalMs: 100, warmupMessages: 4 } });

    const first = await started(config);
    expect(first.input.state).toBe('consuming');
    await eventually('all ticks', () => live(first.events), (x) => x.length === 6);
    // Every fill reached the stream before the first tick.
    const kinds = first.events.map((e) => e.kind);
    expect(kinds.filter((k) => k === 'fill')).toHaveLength(2);
    expect(kinds.lastIndexOf('fill')).toBeLessThan(kinds.indexOf('ticks'));
    expect(live(first.events)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(first.dead.map((d) => [d.code, d.topic, d.offset])).toEqual([
      ['FILL_INVALID', topics.fills, '1'],
      ['TICK_INVALID', topics.ticks, '5'],
    ]);
    expect(first.input.counters).toMatchObject({ ticks: 6, fills: 2, badTicks: 1, badFills: 1, warmupTicks: 0 });
    await eventually('ready', () => first.input.readiness(), (r) => r.ready);
    await first.input.commit();
    const st = first.input.status();
    expect(st.fills_caught_up).toBe(true);
    expect(st.partitions.find((x) => x['topic'] === topics.ticks)).toMatchObject({ next_offset: 7, delivered_offset: 7, committed_offset: 7, warm_until_offset: 0, lag: 0 });
    expect(st.partitions.find((x) => x['topic'] === topics.fills)).toMatchObject({ next_offset: 3, delivered_offset: null, committed_offset: null });
    await first.input.close();
    expect(first.input.state).toBe('stopped');

    // A restart: the 4 offsets below the commit (3..6) are warm-up, the bad one among them is not dead-lettered again.
    await produce(topics.ticks, [{ key: '1', value: tick(7, 7) }]);
    const second = await started(config);
    await eventually('the new tick', () => live(second.events), (x) => x.length === 1);
    expect(warm(second.events)).toEqual([4, 5, 6]);
    expect(live(second.events)).toEqual([7]);
    expect(second.dead.filter((d) => d.code === 'TICK_INVALID')).toEqual([]);
    expect(second.input.counters).toMatchObject({ warmupTicks: 3, ticks: 1, fills: 2 });
    await eventually('ready after the warm-up', () => second.input.readiness(), (r) => r.ready);
    expect(second.input.warmingUp()).toEqual([]);
  }, 60_000);

  it('checkTopics: KAFKA_TOPIC_MISSING names what is missing; with createTopics enabled it creates them', async () => {
    const p = unique('ki');
    const missing = [`${p}.a`, `${p}.b`];
    const config = KafkaConfigSchema.parse({ brokers: kafkaBrokers(), groupId: `${p}.g` });
    const input = new KafkaInput({ config, logger: pino({ level: 'silent' }), deadLetter: async () => {} });
    onTestFinished(() => input.close());
    await expect(input.checkTopics(missing, config.createTopics)).rejects.toMatchObject({ code: 'KAFKA_TOPIC_MISSING', details: { missing } });
    onTestFinished(async () => {
      const a = kafka().admin();
      await a.connect();
      await a.deleteTopics({ topics: missing }).catch(() => {});
      await a.disconnect();
    });
    await input.checkTopics(missing, { enabled: true, partitions: 2, replicationFactor: 1 });
    await expect(input.checkTopics(missing, config.createTopics)).resolves.toBeUndefined();
  });

  it('stop() during the catch-up ends start() without consuming ticks', async () => {
    const p = unique('ki');
    const topics = await topicsFor(p);
    // A fills partition whose end is never reached: the catch-up waits (up to its timeout).
    await produce(topics.fills, [{ value: fill('f1') }]);
    const config = KafkaConfigSchema.parse({ brokers: kafkaBrokers(), groupId: `${p}.g`, topics, consumer: { fillsCatchUpTimeoutMs: 60_000, queueBatches: 1 } });
    const input = new KafkaInput({ config, logger: pino({ level: 'silent' }), deadLetter: async () => {} });
    onTestFinished(() => input.close());
    // Nobody reads the events: the one-batch queue holds the first fill batch, the handler waits, the catch-up cannot finish.
    await produce(topics.fills, [{ value: fill('f2') }]);
    const start = input.start();
    await eventually('catching up', () => input.state, (s) => s === 'catching-up');
    await input.stop();
    await start;
    expect(input.state).toBe('stopping');
    expect(input.assignment()).toEqual([]);
    await input.close();
    expect(input.state).toBe('stopped');
  }, 60_000);
});
