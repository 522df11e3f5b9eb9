import type { Logger } from 'pino';
import { inputConsumerOptions } from '../consumer-options.js';
import { ConsumeLoop, type ConsumeLoopStats } from '../consume-loop.js';
import type { KafkaConfig } from '../kafka-config.js';
import { connectNative, createNativeConsumer, disconnectNative, type NativeConsumer, type NativeMessage } from '../native-client.js';
import type { TopicPartitionOffset } from '../partition-position.js';

export interface AssignedReaderOptions {
  config: KafkaConfig;
  logger: Logger;
  /** librdkafka's client role in the logs */
  role: string;
  /** a group id it never joins nor commits for (librdkafka wants one) */
  groupId: string;
  /** one consume()'s messages; awaited before the next (backpressure); never throws */
  handle: (messages: NativeMessage[]) => Promise<void> | void;
  onFatal: (err: unknown) => void;
}

/** Clients whose connect failed, kept reachable for the life of the process. */
const ABANDONED: NativeConsumer[] = [];

/**
 * A low-level consumer that reads partitions it assigns itself (no group
 * membership, no commits) from given offsets: a sharded runner's main reader
 * (every partition of market.ticks, once) and its catch-up readers.
 */
export class AssignedReader {
  readonly #o: AssignedReaderOptions;
  readonly #loop: ConsumeLoop;
  #consumer: NativeConsumer | undefined;
  #closing = false;

  constructor(o: AssignedReaderOptions) {
    this.#o = o;
    this.#loop = new ConsumeLoop({
      consumer: () => this.#consumer!,
      maxMessages: o.config.consumer.maxBatchSize,
      handle: o.handle,
      onFatal: o.onFatal,
      logger: o.logger,
    });
  }

  get stats(): ConsumeLoopStats {
    return this.#loop.stats;
  }

  /** Connect, assign the partitions at their offsets, start the consume loop. */
  async start(assignment: readonly TopicPartitionOffset[]): Promise<void> {
    const { options, topicOptions } = inputConsumerOptions(this.#o.config, this.#o.groupId);
    const consumer = createNativeConsumer(
      options,
      topicOptions,
      {
        // Never called: a consumer that assigns itself has no group rebalances.
        rebalance: () => undefined,
        queueNonEmpty: () => this.#loop.wake(),
      },
      this.#o.logger,
      this.#o.role,
    );
    this.#consumer = consumer;
    try {
      await connectNative(consumer, 30_000, assignment[0]?.topic);
    } catch (err) {
      // Not connected: start() may be called again with a new client (this one is kept reachable: a collected client can crash the binding).
      this.#consumer = undefined;
      ABANDONED.push(consumer);
      await disconnectNative(consumer);
      throw err;
    }
    if (this.#closing) {
      await disconnectNative(consumer);
      return;
    }
    consumer.assign(assignment.map((a) => ({ topic: a.topic, partition: a.partition, offset: a.offset })));
    this.#loop.start();
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  async disconnect(): Promise<void> {
    this.#closing = true;
    await this.#loop.stop();
    const c = this.#consumer;
    if (c !== undefined) await disconnectNative(c);
  }
}
