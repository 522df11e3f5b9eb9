import type { CommitAnswer } from './commit-scheduler.js';
import type { ConsumeLoopStats } from './consume-loop.js';
import type { InputContext } from './input-context.js';
import { InputConsumer } from './input-consumer.js';
import type { PartitionId } from './partition-key.js';
import type { TopicPartitionOffset } from './partition-position.js';
import { TickHandler } from './tick-handler.js';
import { TicksRebalance } from './ticks-rebalance.js';

/**
 * `market.ticks`, read by the service's consumer group on the client's
 * low-level API (InputConsumer: a `consume(n)` loop): the rebalance rules
 * (TicksRebalance: where each partition starts, warm-up included) and the
 * handler (TickHandler: one consume() → a warm-up and a live event). Commits
 * go through `commitOffsets` (CommitScheduler), the broker's answers back to
 * `onCommitted`.
 */
export class TicksReader {
  readonly #ctx: InputContext;
  readonly #consumer: InputConsumer;

  constructor(ctx: InputContext, onCommitted: (err: unknown, offsets: CommitAnswer[]) => void) {
    this.#ctx = ctx;
    const rebalance = new TicksRebalance(ctx, (parts, timeoutMs) => this.#consumer.committed(parts, timeoutMs));
    let handler: TickHandler;
    this.#consumer = new InputConsumer({
      config: ctx.config,
      logger: ctx.log,
      role: 'ticks-consumer',
      groupId: ctx.config.groupId,
      topic: ctx.config.topics.ticks,
      owner: rebalance,
      handle: (messages) => handler.onMessages(messages),
      onFatal: (err) => {
        ctx.log.error({ err }, 'the ticks consumer cannot go on; stopping input');
        ctx.queue.fail(err);
      },
      onCommitted,
    });
    handler = new TickHandler(ctx, this.#consumer);
  }

  /** Created (by start()): offsets can be committed and the assignment read. */
  get started(): boolean {
    return this.#consumer.started;
  }

  /** What the consume loop has done. */
  get fetchStats(): ConsumeLoopStats {
    return this.#consumer.stats;
  }

  /** Connect, subscribe and run; returns early (false) when the input stopped meanwhile. */
  async start(): Promise<boolean> {
    await this.#consumer.start();
    return !this.#ctx.stopped.aborted;
  }

  commitOffsets(list: TopicPartitionOffset[]): readonly PartitionId[] {
    return this.#consumer.commit(list);
  }

  /** The partitions assigned now. */
  assignment(): PartitionId[] {
    return this.#consumer.assignment();
  }

  stop(): Promise<void> {
    return this.#consumer.stop();
  }

  disconnect(): Promise<void> {
    return this.#consumer.disconnect();
  }
}
