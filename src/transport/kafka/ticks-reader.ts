import type { KafkaJS } from '@confluentinc/kafka-javascript';
import { consumerOptions } from './consumer-options.js';
import type { InputContext } from './input-context.js';
import type { PartitionId } from './partition-key.js';
import type { TopicPartitionOffset } from './partition-position.js';
import { TickHandler } from './tick-handler.js';
import { TicksRebalance } from './ticks-rebalance.js';

/**
 * `market.ticks`, read by the service's consumer group in batches
 * (`eachBatch`): the consumer, its rebalance callback (TicksRebalance: where
 * each partition starts, warm-up included) and its batch handler
 * (TickHandler). Commits go through `commitOffsets` (CommitScheduler).
 */
export class TicksReader {
  readonly #ctx: InputContext;
  readonly #kafka: KafkaJS.Kafka;
  readonly #handler: TickHandler;
  #consumer: KafkaJS.Consumer | undefined;

  constructor(ctx: InputContext, kafka: KafkaJS.Kafka) {
    this.#ctx = ctx;
    this.#kafka = kafka;
    this.#handler = new TickHandler(ctx);
  }

  /** Created (by start()): offsets can be committed and the assignment read. */
  get started(): boolean {
    return this.#consumer !== undefined;
  }

  /** Connect, subscribe and run; returns early (false) when the input stopped meanwhile. */
  async start(): Promise<boolean> {
    const { config, stopped } = this.#ctx;
    const rebalance = new TicksRebalance(this.#ctx, (parts, timeoutMs) => this.#consumer!.committed(parts, timeoutMs));
    // Where each assigned partition starts: our own position wins over the group's committed offset.
    const consumer = this.#kafka.consumer(consumerOptions(config, config.groupId, (err, assignment, fns) => rebalance.onRebalance(err, assignment, fns)));
    this.#consumer = consumer;
    await consumer.connect();
    if (stopped.aborted) return false;
    await consumer.subscribe({ topics: [config.topics.ticks] });
    await consumer.run({ eachBatch: async ({ batch }) => this.#handler.onBatch(batch) });
    return !stopped.aborted;
  }

  commitOffsets(list: TopicPartitionOffset[]): Promise<void> {
    return this.#consumer!.commitOffsets(list);
  }

  /** The partitions assigned now (none before start or when the client cannot say). */
  assignment(): PartitionId[] {
    try {
      return this.#consumer?.assignment().map((a) => ({ topic: a.topic, partition: a.partition })) ?? [];
    } catch {
      return [];
    }
  }

  stop(): Promise<void> | undefined {
    return this.#consumer?.stop();
  }

  disconnect(): Promise<void> | undefined {
    return this.#consumer?.disconnect();
  }
}
