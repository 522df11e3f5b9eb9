import { KafkaJS } from '@confluentinc/kafka-javascript';
import { describe, expect, it } from 'vitest';
import { RunnerError } from '../../../../src/errors.js';
import { kafkaError } from '../../../../src/transport/kafka/client.js';

describe('kafkaError: client errors classified by code', () => {
  it('a missing topic or partition is KAFKA_TOPIC_MISSING, not retried', () => {
    for (const code of [3, -188, -190]) {
      const e = kafkaError(new KafkaJS.KafkaJSError('Broker: Unknown topic or partition', { code }), 'fetch orders.filled offsets');
      expect(e).toMatchObject({ code: 'KAFKA_TOPIC_MISSING', retryable: false, details: { kafka_code: code } });
      expect(e.message).toBe('fetch orders.filled offsets: Broker: Unknown topic or partition');
    }
  });

  it('anything else is KAFKA_UNAVAILABLE and retried; our own errors pass through', () => {
    expect(kafkaError(new KafkaJS.KafkaJSError('Local: Timed out', { code: -185 }), 'x')).toMatchObject({ code: 'KAFKA_UNAVAILABLE', retryable: true });
    expect(kafkaError(new Error('socket hang up'), 'x')).toMatchObject({ code: 'KAFKA_UNAVAILABLE', retryable: true });
    const own = new RunnerError('SUPERVISOR_STATE', 'no');
    expect(kafkaError(own, 'x')).toBe(own);
  });
});
