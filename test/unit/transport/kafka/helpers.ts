import pino from 'pino';
import { EventQueue } from '../../../../src/async/event-queue.js';
import type { InputEvent } from '../../../../src/ports.js';
import { BrokerContact } from '../../../../src/transport/kafka/broker-contact.js';
import { inputCounters, type InputContext } from '../../../../src/transport/kafka/input-context.js';
import { KafkaConfigSchema } from '../../../../src/transport/kafka/kafka-config.js';
import type { DeadLetter } from '../../../../src/transport/kafka/kafka-signal-sink.js';
import type { NativeMessage } from '../../../../src/transport/kafka/native-client.js';
import { PartitionPositions } from '../../../../src/transport/kafka/partition-position.js';
import type { TickPartitionView } from '../../../../src/transport/kafka/tick-handler.js';

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
    warmFrom: new Map(),
    dead,
    stop,
    events,
  };
}

/** Messages as the low-level consumer's consume() hands them over (the fields the input reads): one partition, consecutive offsets. */
export function messagesOf(topic: string, partition: number, firstOffset: number, values: (string | null)[]): NativeMessage[] {
  return values.map((v, i) => ({
    topic,
    partition,
    offset: firstOffset + i,
    key: Buffer.from('k'),
    value: v === null ? null : Buffer.from(v),
    size: v?.length ?? 0,
    timestamp: 0,
  })) as NativeMessage[];
}

/** The consumer's side of the tick handler: which partitions it owns (all, unless listed as revoked), their high watermarks. */
export function partitionView(high: Record<number, number> = {}, revoked: number[] = []): TickPartitionView & { revoked: Set<number> } {
  const r = new Set(revoked);
  return { revoked: r, owns: (_t, p) => !r.has(p), highWatermark: (_t, p) => high[p] ?? -1 };
}

export function tickJson(token: number, price: number, ts = 1_700_000_000_000): string {
  return JSON.stringify({ instrument_token: token, last_price: price, timestamp: ts });
}
