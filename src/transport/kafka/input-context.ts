import type { Logger } from 'pino';
import type { EventQueue } from '../../async/event-queue.js';
import type { InputEvent } from '../../ports.js';
import type { BrokerContact } from './broker-contact.js';
import type { ConsumerCounters } from '../../status/status-document.js';
import type { KafkaConfig } from './kafka-config.js';
import type { DeadLetter } from './kafka-signal-sink.js';
import type { PartitionPositions } from './partition-position.js';

/** What the input counts (on /status as `consumer.counters`, on /metrics). */
export function inputCounters(): ConsumerCounters {
  return {
    ticks: 0,
    fills: 0,
    /** ticks re-read to rebuild strategy state (no signals) */
    warmupTicks: 0,
    /** ticks the client delivered again below this process's own position (never dispatched twice) */
    redeliveredTicks: 0,
    /** ticks fetched for a partition that was revoked before they were handled: not dispatched (its next owner reads them) */
    revokedTicks: 0,
    /** ticks read for shards this runner does not hold (a sharded runner reads every partition): not dispatched */
    unownedTicks: 0,
    badTicks: 0,
    badFills: 0,
    /** offset commits the broker acknowledged */
    commits: 0,
    /** offset commits that failed (not sent, or refused by the broker): the next commit takes their offsets again */
    commitErrors: 0,
    /** partitions assigned to the ticks consumer, over the life of the process */
    assignments: 0,
    /** partitions revoked or lost */
    revocations: 0,
    lostPartitions: 0,
  };
}

export type InputCounters = ConsumerCounters;

/** The state the parts of one KafkaInput share (built once by KafkaInput). */
export interface InputContext {
  readonly config: KafkaConfig;
  /** the input's logger (component kafka-input) */
  readonly log: Logger;
  readonly counters: InputCounters;
  /** the one position map, both topics */
  readonly positions: PartitionPositions;
  readonly broker: BrokerContact;
  /** to the pipeline */
  readonly queue: EventQueue<InputEvent>;
  /** sends a bad record to the dead-letter topic; resolves on acknowledgement */
  readonly deadLetter: (d: DeadLetter) => Promise<void>;
  /** aborts when the input stops: start-up waits and retries end */
  readonly stopped: AbortSignal;
  /** per `topic/partition`: a restart's warm-up starts at most here (where the strategies' snapshots stand) */
  readonly warmFrom: Map<string, number>;
}
