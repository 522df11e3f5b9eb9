import pino from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { Signal } from '../../../../src/domain/signal.js';
import { KafkaConfigSchema } from '../../../../src/transport/kafka/kafka-config.js';
import { KafkaSignalSink } from '../../../../src/transport/kafka/kafka-signal-sink.js';
import { consumeUntil, createTopics, kafkaBrokers, unique } from '../../../helpers/infra.js';

function signal(broker: string, n: number): Signal {
  return {
    signal_id: `sig-${broker}-${n}`,
    strategy_id: 'mom',
    strategy_type: 'SimpleMomentumStrategy',
    instrument_token: 256265,
    side: 'BUY',
    quantity: 1,
    price: 100 + n,
    tick_timestamp: 1_700_000_000_000 + n,
    broker,
  };
}

async function sinkFor(p: string, extra: Record<string, unknown> = {}): Promise<KafkaSignalSink> {
  const config = KafkaConfigSchema.parse({ brokers: kafkaBrokers(), topics: { signals: `${p}.{broker}.signals`, deadLetter: `${p}.dlq` }, ...extra });
  const sink = new KafkaSignalSink(config, pino({ level: 'silent' }));
  onTestFinished(() => sink.close());
  await sink.connect();
  return sink;
}

describe('KafkaSignalSink against the broker', () => {
  it('write() resolves once every signal is acknowledged, each on its broker topic, keyed by instrument, with the headers', async () => {
    const p = unique('sink');
    await createTopics([`${p}.paper.signals`, `${p}.zerodha.signals`]);
    const sink = await sinkFor(p);
    const signals = [signal('paper', 1), signal('zerodha', 2), signal('paper', 3)];
    await sink.write(signals);
    expect(sink.status()).toMatchObject({ connected: true, healthy: true, in_flight_signals: 0, acknowledged_signals: 3 });
    const paper = await consumeUntil(`${p}.paper.signals`, (m) => m.length >= 2);
    expect(paper.map((m) => JSON.parse(m.value))).toEqual([signals[0], signals[2]]);
    expect(paper[0]).toMatchObject({ key: '256265', headers: { 'strategy-id': 'mom', 'signal-id': 'sig-paper-1', 'strategy-type': 'SimpleMomentumStrategy' } });
    const zerodha = await consumeUntil(`${p}.zerodha.signals`, (m) => m.length >= 1);
    expect(JSON.parse(zerodha[0]!.value)).toEqual(signals[1]);
  });

  it('a bad input record goes to the dead-letter topic with its original key and bytes and where it came from', async () => {
    const p = unique('sink');
    await createTopics([`${p}.dlq`]);
    const sink = await sinkFor(p);
    await sink.deadLetter({ topic: 'ticks', partition: 2, offset: '41', key: Buffer.from('7'), value: Buffer.from('not json'), reason: 'not JSON', code: 'TICK_INVALID' });
    expect(sink.deadLettered).toBe(1);
    const [m] = await consumeUntil(`${p}.dlq`, (x) => x.length >= 1);
    expect(m).toMatchObject({
      key: '7',
      value: 'not json',
      headers: { 'x-dlq-reason': 'not JSON', 'x-dlq-error-code': 'TICK_INVALID', 'x-dlq-source-topic': 'ticks', 'x-dlq-source-partition': '2', 'x-dlq-source-offset': '41' },
    });
    expect(Date.parse(m!.headers['x-dlq-at']!)).not.toBeNaN();
  });

  it("keeps the call order when librdkafka's local queue is full: what does not fit waits for deliveries, in order", async () => {
    const p = unique('sink');
    await createTopics([`${p}.paper.signals`]);
    // A queue of 50 messages against writes of 300: every write overflows it.
    const sink = await sinkFor(p, { producerOptions: { 'queue.buffering.max.messages': 50 } });
    const writes: Promise<void>[] = [];
    const all: Signal[] = [];
    for (let w = 0; w < 10; w++) {
      const batch = Array.from({ length: 300 }, (_, i) => signal('paper', w * 300 + i));
      all.push(...batch);
      writes.push(sink.write(batch));
    }
    await Promise.all(writes);
    expect(sink.queueFullWaits).toBeGreaterThan(0);
    expect(sink.status()).toMatchObject({ in_flight_signals: 0, acknowledged_signals: 3000 });
    // One key, so one partition: the topic holds the signals in exactly the call order.
    const got = await consumeUntil(`${p}.paper.signals`, (m) => m.length >= 3000, 60_000);
    expect(got.map((m) => JSON.parse(m.value).signal_id)).toEqual(all.map((s) => s.signal_id));
  });

  it("kafka.producer.signalHeaders: 'id' carries the signal id only, 'none' no headers (the value is the whole signal)", async () => {
    const p = unique('sink');
    await createTopics([`${p}.paper.signals`]);
    const lean = await sinkFor(p, { producer: { signalHeaders: 'id' } });
    await lean.write([signal('paper', 1)]);
    const none = await sinkFor(p, { producer: { signalHeaders: 'none' } });
    await none.write([signal('paper', 2)]);
    const [a, b] = await consumeUntil(`${p}.paper.signals`, (m) => m.length >= 2);
    expect(a!.headers).toEqual({ 'signal-id': 'sig-paper-1' });
    expect(b!.headers).toEqual({});
    expect(JSON.parse(b!.value)).toEqual(signal('paper', 2));
  });

  it('a signal the broker refuses rejects its write with SIGNAL_DELIVERY_FAILED naming the topic; later writes still go through', async () => {
    const p = unique('sink');
    await createTopics([`${p}.paper.signals`]);
    // Larger than the producer's message.max.bytes: librdkafka refuses it in its delivery report.
    const sink = await sinkFor(p, { producerOptions: { 'message.max.bytes': 1000 } });
    const big = { ...signal('paper', 1), strategy_id: 'x'.repeat(2000) };
    const failed = await sink.write([signal('paper', 0), big]).catch((e: unknown) => e);
    expect(failed).toMatchObject({ code: 'SIGNAL_DELIVERY_FAILED', details: { topics: [`${p}.paper.signals`] } });
    expect(sink.status().last_error).toMatch(/too large|size/i);
    await sink.write([signal('paper', 3)]);
    expect(sink.status()).toMatchObject({ in_flight_signals: 0 });
  });
});
