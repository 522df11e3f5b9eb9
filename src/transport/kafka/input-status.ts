import type { ConsumerPartitionStatus, ConsumerStatus } from '../../status/status-document.js';
import type { BrokerContact } from './broker-contact.js';
import type { ConsumeLoopStats } from './consume-loop.js';
import { lagOf, type PartitionPosition } from './partition-position.js';

/**
 * What both inputs (KafkaInput, ShardedInput) report the same way on
 * /status and /readyz: the state's own reasons, a partition's position, the
 * broker contact, the consume loop's counters.
 */

/** The reasons of an input's lifecycle state before it consumes (none once consuming). */
export function stateReasons(state: string, fillsCaughtUp: boolean, joining: string): string[] {
  if (state === 'created') return ['Kafka input not started'];
  if (state === 'catching-up') return [fillsCaughtUp ? joining : 'rebuilding portfolios from orders.filled'];
  if (state !== 'consuming') return [`Kafka input ${state}`];
  return [];
}

/** The /readyz reason while the broker does not answer; undefined while it does. */
export function brokerUnreachableReason(broker: BrokerContact, now: number): string | undefined {
  if (broker.reachable(now)) return undefined;
  const last = broker.lastAnswerAt;
  return `Kafka broker unreachable: no answer since ${new Date(last).toISOString()} (${Math.round((now - last) / 1000)} s)`;
}

/** The broker fields of `consumer` on /status. */
export function brokerStatus(broker: BrokerContact, now: number): Pick<ConsumerStatus, 'broker_reachable' | 'last_broker_answer_age_ms' | 'broker_unreachable_since'> {
  const reachable = broker.reachable(now);
  return {
    broker_reachable: reachable,
    last_broker_answer_age_ms: now - broker.lastAnswerAt,
    broker_unreachable_since: reachable ? null : new Date(broker.lastAnswerAt).toISOString(),
  };
}

/** One partition's position as /status shows it. */
export function partitionStatus(p: PartitionPosition, now: number): ConsumerPartitionStatus {
  return {
    topic: p.topic,
    partition: p.partition,
    next_offset: p.next ?? null,
    warm_until_offset: p.warmUntil,
    high_watermark: p.high,
    lag: lagOf(p),
    delivered_offset: p.delivered ?? null,
    committed_offset: p.committed ?? null,
    last_batch_age_ms: p.lastBatchAt === 0 ? null : now - p.lastBatchAt,
  };
}

/** The consume loop's counters as /status shows them. */
export function fetchStatus(f: ConsumeLoopStats): ConsumerStatus['fetch'] {
  return { polls: f.polls, empty_polls: f.emptyPolls, messages: f.messages, wakeups: f.wakeups, errors: f.errors };
}
