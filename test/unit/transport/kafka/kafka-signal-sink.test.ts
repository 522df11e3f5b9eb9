import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { KafkaConfigSchema } from '../../../../src/transport/kafka/kafka-config.js';
import { KafkaSignalSink } from '../../../../src/transport/kafka/kafka-signal-sink.js';

const config = KafkaConfigSchema.parse({ brokers: ['127.0.0.1:1'], topics: { signals: 'x.{broker}.signals' } });

describe('KafkaSignalSink without a broker', () => {
  it('is named after its topic pattern; not connected, healthy, nothing in flight', () => {
    const s = new KafkaSignalSink(config, pino({ level: 'silent' }));
    expect(s.name).toBe('kafka:x.{broker}.signals');
    expect(s.connected).toBe(false);
    expect(s.healthy()).toBe(true);
    expect(s.status()).toEqual({ connected: false, healthy: true, in_flight_signals: 0, acknowledged_signals: 0, dead_lettered: 0, queue_full_waits: 0, last_error: null });
  });

  it('an empty write resolves at once; close() before connect is a no-op, and memoised', async () => {
    const s = new KafkaSignalSink(config, pino({ level: 'silent' }));
    await expect(s.write([])).resolves.toBeUndefined();
    const c = s.close();
    expect(s.close()).toBe(c);
    await c;
    expect(s.connected).toBe(false);
  });
});
