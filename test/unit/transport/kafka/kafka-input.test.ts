import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { KafkaInput } from '../../../../src/transport/kafka/kafka-input.js';
import { KafkaConfigSchema } from '../../../../src/transport/kafka/kafka-config.js';

// An address nothing listens on: no test here reaches a broker.
const config = KafkaConfigSchema.parse({ brokers: ['127.0.0.1:1'] });

function input(): KafkaInput {
  return new KafkaInput({ config, logger: pino({ level: 'silent' }), deadLetter: async () => {} });
}

describe('KafkaInput before and without a broker: its lifecycle and what it reports', () => {
  it('created: not ready, an empty status and lag, nothing assigned', () => {
    const i = input();
    expect(i.state).toBe('created');
    expect(i.readiness()).toEqual({ ready: false, reasons: ['Kafka input not started'] });
    expect(i.brokerReachable()).toBe(true);
    expect(i.assignment()).toEqual([]);
    expect(i.warmingUp()).toEqual([]);
    expect(i.lag()).toEqual([]);
    expect(i.status()).toMatchObject({ state: 'created', ready: false, fills_caught_up: false, partitions: [], queued_batches: 0, broker_unreachable_since: null });
    expect(Object.keys(i.counters)).toEqual(['ticks', 'fills', 'warmupTicks', 'redeliveredTicks', 'revokedTicks', 'unownedTicks', 'badTicks', 'badFills', 'commits', 'commitErrors', 'assignments', 'revocations', 'lostPartitions']);
  });

  it('the broker counts as unreachable after 15 s without an answer, and readiness says since when', () => {
    const i = input();
    const later = Date.now() + 16_000;
    expect(i.brokerReachable(later)).toBe(false);
    expect(i.readiness(later).reasons[1]).toMatch(/^Kafka broker unreachable: no answer since .* \(16 s\)$/);
  });

  it('stop() before start ends the event stream; close() ends in stopped; both are idempotent', async () => {
    const i = input();
    const it = i.events()[Symbol.asyncIterator]();
    const a = i.stop();
    expect(i.stop()).toBe(a);
    await a;
    expect(i.state).toBe('stopping');
    expect(i.readiness().reasons).toEqual(['Kafka input stopping']);
    expect(await it.next()).toEqual({ done: true, value: undefined });
    await i.close();
    await i.close();
    expect(i.state).toBe('stopped');
  });

  it('start() is legal only once, from created (SUPERVISOR_STATE)', async () => {
    const i = input();
    await i.stop();
    await expect(i.start()).rejects.toMatchObject({ code: 'SUPERVISOR_STATE' });
    await i.close();
  });

  it('commit() with nothing delivered resolves without a consumer', async () => {
    const i = input();
    await expect(i.commit()).resolves.toBeUndefined();
    await i.close();
  });
});
