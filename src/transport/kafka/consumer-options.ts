import type { KafkaJS } from '@confluentinc/kafka-javascript';
import type { KafkaConfig } from './kafka-config.js';
import type { PartitionId } from './partition-key.js';

/** librdkafka's RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS: the rebalance callback's "assign" event. */
export const ERR_ASSIGN_PARTITIONS = -175;

/**
 * What a rebalance callback returns on assignment: the client hands it to
 * librdkafka's assign as it is, so the offset must be a number (a string
 * throws there and the partitions are silently not assigned). No offset: the
 * group's committed one, else the reset policy (earliest).
 */
export interface AssignedPartition extends PartitionId {
  offset?: number;
}

/** The client's rebalance callback (`rebalance_cb`), as the KafkaJS-compatible API calls it. */
export type RebalanceCallback = (
  err: { code: number },
  assignment: KafkaJS.TopicPartition[],
  fns: { assignmentLost(): boolean },
) => AssignedPartition[] | undefined | Promise<AssignedPartition[] | undefined>;

/**
 * The settings of every consumer of the input, written once: read from the
 * beginning when the group has no commit, never auto-commit (commits follow
 * acknowledgements), the fetch/batch/session settings of `kafka.consumer`,
 * then the user's `consumerOptions`, and the rebalance callback last (it
 * decides where each assigned partition starts).
 */
export function consumerOptions(c: KafkaConfig, groupId: string, rebalance: RebalanceCallback): KafkaJS.ConsumerConstructorConfig {
  return {
    kafkaJS: { groupId, fromBeginning: true, autoCommit: false },
    'fetch.wait.max.ms': c.consumer.fetchWaitMaxMs,
    'js.consumer.max.batch.size': c.consumer.maxBatchSize,
    'js.consumer.max.cache.size.per.worker.ms': c.consumer.cacheMs,
    'fetch.queue.backoff.ms': c.consumer.fetchQueueBackoffMs,
    'session.timeout.ms': c.consumer.sessionTimeoutMs,
    ...c.consumerOptions,
    rebalance_cb: rebalance,
  } as KafkaJS.ConsumerConstructorConfig;
}
