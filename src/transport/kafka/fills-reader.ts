import { randomUUID } from 'node:crypto';
import { decodeFill, type Fill } from '../../domain/fill.js';
import { Backoff } from '../../timing/backoff.js';
import { sleep, TIMED_OUT, within } from '../../timing/sleep.js';
import { BatchIntake, TOMBSTONE } from './batch-intake.js';
import { kafkaError } from './client.js';
import type { AssignedPartition } from './consumer-options.js';
import type { InputContext } from './input-context.js';
import { InputConsumer } from './input-consumer.js';
import type { NativeMessage } from './native-client.js';
import type { PartitionId } from './partition-key.js';
import type { PartitionPosition } from './partition-position.js';
import type { TopicAdmin } from './topic-admin.js';

/**
 * `orders.filled`, read from the beginning at every start by a consumer whose
 * group id is unique to this start (it never commits), so every portfolio is
 * rebuilt from the full history of fills; then it stays subscribed for new
 * fills. `catchUp()` resolves once it has reached the end of the topic as it
 * was at start (or gave up waiting, or the input stopped).
 */
export class FillsReader {
  readonly #ctx: InputContext;
  readonly #admin: TopicAdmin;
  readonly #intake: BatchIntake;
  #consumer: InputConsumer | undefined;
  #caughtUp = false;

  constructor(ctx: InputContext, admin: TopicAdmin) {
    this.#ctx = ctx;
    this.#admin = admin;
    this.#intake = new BatchIntake(ctx);
  }

  /** Read to the end as it was at start (or fillsCatchUpTimeoutMs passed: portfolios as rebuilt so far). */
  get caughtUp(): boolean {
    return this.#caughtUp;
  }

  /**
   * Start reading and wait for the catch-up. Rejects (classified) when the
   * end of the topic cannot be read within fillsCatchUpTimeoutMs.
   */
  async catchUp(): Promise<void> {
    const { config, positions, stopped, log } = this.#ctx;
    const topic = config.topics.fills;
    const timeoutMs = config.consumer.fillsCatchUpTimeoutMs;
    const ends = await this.#retry('fetch orders.filled offsets', timeoutMs, () => this.#admin.watermarks(topic));
    const targets = new Map(ends.filter((e) => e.high > e.low).map((e) => [e.partition, e.high]));

    let caughtUp!: () => void;
    const caughtUpP = new Promise<void>((resolve) => (caughtUp = resolve));
    const checkCaughtUp = (): void => {
      for (const [p, high] of targets) if ((positions.find(topic, p)?.next ?? 0) < high) return;
      if (!this.#caughtUp) {
        this.#caughtUp = true;
        caughtUp();
      }
    };
    this.#consumer = new InputConsumer({
      config,
      logger: log,
      role: 'fills-consumer',
      // Its group never commits: after a lost session it would read orders.filled from the beginning
      // again. Harmless (fills are de-duplicated by fill_id) but slow on a long history: resume instead.
      groupId: `${config.groupId}.fills.${randomUUID()}`,
      topic,
      owner: { assigned: (parts) => this.#resume(parts), revoked: () => {} },
      handle: async (messages) => {
        await this.#onMessages(messages);
        checkCaughtUp();
      },
      onFatal: (err) => {
        log.error({ err }, 'the fills consumer cannot go on; stopping input');
        this.#ctx.queue.fail(err);
      },
    });
    try {
      await this.#consumer.start();
    } catch (err) {
      throw kafkaError(err, 'connect the orders.filled consumer');
    }
    checkCaughtUp();
    const t0 = Date.now();
    if ((await within(caughtUpP, timeoutMs, stopped)) === TIMED_OUT && !stopped.aborted) {
      log.error({ waited_ms: Date.now() - t0 }, 'orders.filled not read to its end in time; consuming ticks with the portfolios rebuilt so far');
      this.#caughtUp = true;
    }
    if (!stopped.aborted) log.info({ fills: this.#ctx.counters.fills, ms: Date.now() - t0 }, 'portfolios rebuilt from orders.filled');
  }

  /** One consume()'s fills: every fill to the pipeline, in order; bad ones dead-lettered. */
  async #onMessages(messages: readonly NativeMessage[]): Promise<void> {
    const first = messages[0]!;
    try {
      const dead: Promise<void>[] = [];
      const fills: Fill[] = [];
      const now = Date.now();
      // Messages come grouped by partition: the position and the watermark once per run (the whole history is read at start).
      let part: PartitionPosition | undefined;
      for (const m of messages) {
        if (part === undefined || part.partition !== m.partition || part.topic !== m.topic) {
          part = this.#intake.arrived(m.topic, m.partition, this.#consumer!.highWatermark(m.topic, m.partition), now);
        }
        const r = m.value === null || m.value === undefined ? TOMBSTONE : decodeFill(m.value.toString('utf8'));
        if (r.ok) fills.push(r.fill);
        else dead.push(this.#intake.reject(m.topic, m.partition, m, r.reason, 'FILL_INVALID'));
        part.next = m.offset + 1;
      }
      this.#ctx.counters.fills += fills.length;
      await Promise.all(dead);
      for (const fill of fills) await this.#ctx.queue.push({ kind: 'fill', fill });
    } catch (err) {
      this.#intake.failed(err, 'fill', { topic: first.topic });
    }
  }

  /** Fills partitions assigned again start where this process left them; new ones from the beginning. */
  #resume(parts: PartitionId[]): AssignedPartition[] {
    return parts.map((a) => {
      const next = this.#ctx.positions.find(a.topic, a.partition)?.next;
      return next === undefined ? { topic: a.topic, partition: a.partition } : { topic: a.topic, partition: a.partition, offset: next };
    });
  }

  /** Retry an admin request with back-off (250 ms doubling to 2 s) until it succeeds or the deadline passes (then the last error, classified). */
  async #retry<T>(what: string, deadlineMs: number, fn: () => Promise<T>): Promise<T> {
    const { broker, log, stopped } = this.#ctx;
    const t0 = Date.now();
    const backoff = new Backoff({ initialMs: 250, maxMs: 2000 });
    for (let attempt = 0; ; attempt++) {
      try {
        const r = await fn();
        broker.answered();
        return r;
      } catch (err) {
        // Every error is retried until the deadline, a missing topic too: the topics were checked just
        // before, and a topic that was just created is unknown to a broker for a moment. The last error
        // is classified by its code.
        const delay = backoff.next();
        if (Date.now() - t0 + delay > deadlineMs || stopped.aborted) throw kafkaError(err, `${what} failed after ${attempt + 1} attempts`);
        log.warn({ err: (err as Error).message, attempt: attempt + 1 }, `${what} failed; retrying`);
        if (!(await sleep(delay, stopped))) throw kafkaError(err, `${what} failed after ${attempt + 1} attempts`);
      }
    }
  }

  stop(): Promise<void> | undefined {
    return this.#consumer?.stop();
  }

  disconnect(): Promise<void> | undefined {
    return this.#consumer?.disconnect();
  }
}
