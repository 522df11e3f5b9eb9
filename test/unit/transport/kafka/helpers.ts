import type { KafkaJS } from '@confluentinc/kafka-javascript';
import pino from 'pino';
import { EventQueue } from '../../../../src/async/event-queue.js';
import type { InputEvent } from '../../../../src/ports.js';
import { BrokerContact } from '../../../../src/transport/kafka/broker-contact.js';
import { inputCounters, type InputContext } from '../../../../src/transport/kafka/input-context.js';
import { KafkaConfigSchema } from '../../../../src/transport/kafka/kafka-config.js';
import type { DeadLetter } from '../../../../src/transport/kafka/kafka-signal-sink.js';
import { PartitionPositions } from '../../../../src/transport/kafka/partition-position.js';

/** An input context of real parts (queue, positions, counters), a dead-letter function that records, and a stop controller. */
export function testContext(config: Record<string, unknown> = {}, queueBatches = 100): InputContext & { dead: DeadLetter[]; stop: AbortController; events: InputEvent[] } {
  const stop = new AbortController();
  const dead: DeadLetter[] = [];
  const c = KafkaConfigSchema.parse({ consumer: { queueBatches }, ...config });
  const queue = new EventQueue<InputEvent>(c.consumer.queueBatches);
  const events: InputEvent[] = [];
  const origPush = queue.push.bind(queue);
  queue.push = async (e: InputEvent) => {
    events.push(e);
    return origPush(e);
  };
  return {
    config: c,
    log: pino({ level: 'silent' }),
    counters: inputCounters(),
    positions: new PartitionPositions(),
    broker: new BrokerContact(),
    queue,
    deadLetter: async (d) => {
      dead.push(d);
    },
    stopped: stop.signal,
    dead,
    stop,
    events,
  };
}

/** A fetched batch as the client hands it to eachBatch (the fields the input reads). */
export function batchOf(topic: string, partition: number, firstOffset: number, values: (string | null)[], highWatermark = firstOffset + values.length): KafkaJS.Batch {
  return {
    topic,
    partition,
    highWatermark: String(highWatermark),
    messages: values.map((v, i) => ({
      key: Buffer.from('k'),
      value: v === null ? null : Buffer.from(v),
      offset: String(firstOffset + i),
      timestamp: '0',
      attributes: 0,
      headers: {},
    })),
  } as unknown as KafkaJS.Batch;
}

export function tickJson(token: number, price: number, ts = 1_700_000_000_000): string {
  return JSON.stringify({ instrument_token: token, last_price: price, timestamp: ts });
}
