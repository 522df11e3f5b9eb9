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

async function sinkFor(p: string): Promise<KafkaSignalSink> {
  const config = KafkaConfigSchema.parse({ brokers: kafkaBrokers(), topics: { signals: `${p}.{broker}.signals`, deadLetter: `${p}.dlq` } });
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

});
