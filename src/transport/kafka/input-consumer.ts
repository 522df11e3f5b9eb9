import type { Logger } from 'pino';
import { within, TIMED_OUT } from '../../timing/sleep.js';
import type { CommitAnswer } from './commit-scheduler.js';
import { inputConsumerOptions } from './consumer-options.js';
import { ConsumeLoop, type ConsumeLoopStats } from './consume-loop.js';
import type { KafkaConfig } from './kafka-config.js';
import { connectNative, createNativeConsumer, disconnectNative, type NativeConsumer, type NativeMessage, type NativeOptions } from './native-client.js';
import type { PartitionId } from './partition-key.js';
import type { TopicPartitionOffset } from './partition-position.js';
import { RebalanceSequencer, type PartitionOwner } from './rebalance-sequencer.js';
import type { CommittedOffset } from './ticks-rebalance.js';

export interface InputConsumerOptions {
  config: KafkaConfig;
  logger: Logger;
  /** librdkafka's client role in the logs (`ticks-consumer`, `fills-consumer`) */
  role: string;
  groupId: string;
  topic: string;
  /** where assigned partitions start; hears of revoked ones */
  owner: PartitionOwner;
  /** one consume()'s messages; awaited before the next (backpressure); never throws */
  handle: (messages: NativeMessage[]) => Promise<void> | void;
  /** the consume loop cannot go on */
  onFatal: (err: unknown) => void;
  /** the broker's answer to each offset commit */
  onCommitted?: (err: unknown, offsets: CommitAnswer[]) => void;
  /** librdkafka settings beside the input's (the coordination consumer's assignor, session, client id); they win */
  extraOptions?: NativeOptions;
}

/** How long the close waits for a rebalance step in flight (a committed-offsets read) before disconnecting anyway. */
const CLOSE_REBALANCE_WAIT_MS = 12_000;

/**
 * One topic of the input, read by a low-level consumer of a group: the
 * client (created and connected by start()), its rebalance callback
 * (RebalanceSequencer with the reader's PartitionOwner), and its consume
 * loop (ConsumeLoop) feeding the reader's handler. What the readers
 * (TicksReader, FillsReader) share; each keeps its own rules.
 */
export class InputConsumer {
  readonly #o: InputConsumerOptions;
  readonly #sequencer: RebalanceSequencer;
  readonly #loop: ConsumeLoop;
  #consumer: NativeConsumer | undefined;
  /** disconnect() was called: a connect still in flight is undone when it completes */
  #closing = false;

  constructor(o: InputConsumerOptions) {
    this.#o = o;
    const log = o.logger.child({ component: 'kafka-input', topic: o.topic });
    this.#sequencer = new RebalanceSequencer(o.owner, log);
    this.#loop = new ConsumeLoop({
      consumer: () => this.#consumer!,
      maxMessages: o.config.consumer.maxBatchSize,
      handle: o.handle,
      onFatal: o.onFatal,
      logger: log,
    });
  }

  /** Created (by start()): offsets can be committed and committed offsets read. */
  get started(): boolean {
    return this.#consumer !== undefined;
  }

  /** The client (created by start()): what a transaction's sendOffsets needs for the group's metadata. */
  get client(): NativeConsumer | undefined {
    return this.#consumer;
  }

  get stats(): ConsumeLoopStats {
    return this.#loop.stats;
  }

  /** Connect, subscribe and start the consume loop. Rejects when the client cannot connect. */
  async start(): Promise<void> {
    const { config, logger, role, groupId, topic } = this.#o;
    const { options, topicOptions } = inputConsumerOptions(config, groupId);
    const consumer = createNativeConsumer(
      { ...options, ...this.#o.extraOptions },
      topicOptions,
      {
        rebalance: this.#sequencer.callback,
        queueNonEmpty: () => this.#loop.wake(),
        ...(this.#o.onCommitted === undefined ? {} : { offsetCommit: (err, offsets) => this.#o.onCommitted!(err, offsets) }),
      },
      logger,
      role,
    );
    this.#sequencer.attach(consumer);
    this.#consumer = consumer;
    await connectNative(consumer, 30_000, topic);
    // Closed while connecting (a stop during start-up): leave again at once, never subscribed.
    if (this.#closing) {
      await disconnectNative(consumer);
      return;
    }
    consumer.subscribe([topic]);
    this.#loop.start();
  }

  /** Whether the partition is assigned to this consumer now. */
  owns(topic: string, partition: number): boolean {
    return this.#sequencer.owns(topic, partition);
  }

  /** The partitions assigned now. */
  assignment(): PartitionId[] {
    return this.#sequencer.owned();
  }

  /** The high watermark the client last saw for the partition (from its fetches, no request); -1 when unknown. */
  highWatermark(topic: string, partition: number): number {
    try {
      return this.#consumer?.getWatermarkOffsets(topic, partition).highOffset ?? -1;
    } catch {
      return -1;
    }
  }

  /** The group's committed offsets of these partitions. */
  committed(parts: PartitionId[], timeoutMs: number): Promise<CommittedOffset[]> {
    return new Promise((resolve, reject) =>
      this.#consumer!.committed(parts.map((p) => ({ topic: p.topic, partition: p.partition })), timeoutMs, (err, list) => (err ? reject(err) : resolve(list))),
    );
  }

  /**
   * Hand offsets to the client's async commit (the broker's answer goes to
   * `onCommitted`), only those of partitions assigned now: a partition that
   * was revoked may have moved on under its next owner. Returns the ones left
   * out (committed when the partition is assigned here again).
   */
  commit<T extends TopicPartitionOffset>(list: T[]): T[] {
    const mine: T[] = [];
    const left: T[] = [];
    for (const p of list) (this.owns(p.topic, p.partition) ? mine : left).push(p);
    if (mine.length > 0) this.#consumer!.commit(mine);
    return left;
  }

  /**
   * Hand offsets to the client's async commit whatever the assignment says:
   * a shard's release commits its position inside the revocation, after the
   * sequencer has already taken the partition off its owned set (the client
   * still has it assigned until the revocation's unassign, and the broker
   * takes the commit from the member of the current generation).
   */
  commitDuringRevocation<T extends TopicPartitionOffset>(list: T[]): void {
    if (list.length > 0) this.#consumer!.commit(list);
  }

  /** Stop fetching: ends the consume loop after the consume() in flight. */
  stop(): Promise<void> {
    return this.#loop.stop();
  }

  /**
   * Leave the group and close the client (librdkafka sends the commits still
   * pending and waits for the final revocation, which the sequencer answers
   * at once). A rebalance step in flight is waited for first, bounded: the
   * client must not close under a committed-offsets read.
   */
  async disconnect(): Promise<void> {
    this.#closing = true;
    await this.#loop.stop();
    const consumer = this.#consumer;
    if (consumer === undefined) return;
    this.#sequencer.closing();
    if ((await within(this.#sequencer.idle(), CLOSE_REBALANCE_WAIT_MS)) === TIMED_OUT) {
      this.#o.logger.warn({ topic: this.#o.topic }, 'a rebalance step was still running at close; closing anyway');
    }
    await disconnectNative(consumer);
  }
}
