import type { KafkaConfig } from './kafka-config.js';
import { nativeBaseOptions, type NativeOptions } from './native-client.js';
import type { PartitionId } from './partition-key.js';

/**
 * Where an assigned partition starts, as the rebalance handling hands it to
 * the client's assign: a number (no offset: the group's committed one, else
 * the reset policy, earliest).
 */
export interface AssignedPartition extends PartitionId {
  offset?: number;
}

/** The librdkafka settings of a low-level consumer: global ones, and the topic-level ones. */
export interface NativeConsumerOptions {
  options: NativeOptions;
  topicOptions: NativeOptions;
}

/**
 * The settings of every consumer of the input, written once: the shared
 * client settings (brokers, `kafka.librdkafka`), the group, never
 * auto-commit or auto-store (commits follow acknowledgements), the
 * fetch/session settings of `kafka.consumer`, then the user's
 * `consumerOptions` (librdkafka names), which win; read from the beginning
 * when the group has no commit.
 *
 * `fetch.queue.backoff.ms`: librdkafka's default (1000) pauses the fetcher a
 * whole second whenever its local queue is full, which idles it each time the
 * runner falls behind for a moment (docs/kafka.md).
 */
export function inputConsumerOptions(c: KafkaConfig, groupId: string): NativeConsumerOptions {
  return {
    options: {
      ...nativeBaseOptions(c),
      'group.id': groupId,
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
      'fetch.wait.max.ms': c.consumer.fetchWaitMaxMs,
      'fetch.queue.backoff.ms': c.consumer.fetchQueueBackoffMs,
      'session.timeout.ms': c.consumer.sessionTimeoutMs,
      ...c.consumerOptions,
    },
    topicOptions: { 'auto.offset.reset': 'earliest' },
  };
}
