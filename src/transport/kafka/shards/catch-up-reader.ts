import { randomUUID } from 'node:crypto';
import type { InputContext } from '../input-context.js';
import type { ConsumeLoopStats } from '../consume-loop.js';
import { AssignedReader } from './assigned-reader.js';
import type { ShardBook } from './shard-book.js';
import { ShardTickHandler } from './shard-tick-handler.js';

/**
 * The catch-up of the shards acquired together: a reader of its own that
 * reads, from the lowest position among them in each partition, what they
 * missed (warm-up, then live) up to the main reader's position, and then
 * hands each shard's partition over to the main reader. The shards already
 * live are not held back: they keep getting the main reader's ticks.
 * Its shards are fixed when it is made (their partitions name it as their
 * feed); it ends when none is left (handed over, released or dropped).
 *
 * A hand-over happens only on what the handler has seen: a message at or
 * past the main reader's position, or a run that ends there. Never on the
 * client's position(), which moves when the client takes messages off its
 * queue, before the handler has given them to the shards (handing over on
 * it skipped the messages in between: a gap in the shard's ticks). A
 * partition with nothing left to read below the main reader (its older
 * ticks deleted by retention) hands over at its next message.
 */
export class CatchUpReader {
  readonly #ctx: InputContext;
  readonly #book: ShardBook;
  readonly #starts: ReadonlyMap<number, number>;
  readonly #reader: AssignedReader;
  readonly #handler: ShardTickHandler;
  readonly #onDone: (r: CatchUpReader) => void;
  #timer: NodeJS.Timeout | undefined;
  #done = false;

  constructor(ctx: InputContext, book: ShardBook, starts: ReadonlyMap<number, number>, onDone: (r: CatchUpReader) => void) {
    this.#ctx = ctx;
    this.#book = book;
    this.#starts = starts;
    this.#onDone = onDone;
    this.#handler = new ShardTickHandler(ctx, book, this, { handover: () => this.#check() });
    this.#reader = new AssignedReader({
      config: ctx.config,
      logger: ctx.log,
      role: 'ticks-catch-up',
      groupId: `${ctx.config.groupId}.catch-up.${randomUUID()}`,
      handle: (messages) => this.#handler.onMessages(messages),
      onFatal: (err) => {
        ctx.log.error({ err }, 'a shard catch-up reader cannot go on; stopping input');
        ctx.queue.fail(err);
      },
    });
  }

  get stats(): ConsumeLoopStats {
    return this.#reader.stats;
  }

  /** The partitions it reads and where it started. */
  get starts(): ReadonlyMap<number, number> {
    return this.#starts;
  }

  /** The shards' partitions it still feeds. */
  remaining(): number {
    let n = 0;
    for (const p of this.#starts.keys()) n += this.#book.fed(this, p).length;
    return n;
  }

  /** Connect and read; rejects when the client cannot connect (then it may be called again). */
  async start(): Promise<void> {
    const topic = this.#ctx.config.topics.ticks;
    // A shard that was released or dropped before any message came leaves it with nothing to do.
    this.#timer ??= setInterval(() => this.#check(), 1000);
    await this.#reader.start([...this.#starts].map(([partition, offset]) => ({ topic, partition, offset })));
    this.#check();
  }

  /** Done once no shard partition names it as its feed. */
  #check(): void {
    if (this.#done || this.remaining() > 0) return;
    this.#done = true;
    clearInterval(this.#timer);
    this.#onDone(this);
  }

  /** Stop reading and close the client. */
  async close(): Promise<void> {
    this.#done = true;
    clearInterval(this.#timer);
    await this.#reader.disconnect();
  }
}
