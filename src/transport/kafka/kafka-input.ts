import { randomUUID } from 'node:crypto';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import type { Logger } from 'pino';
import { decodeFill, type Fill } from '../../domain/fill.js';
import { decodeTick, type Tick } from '../../domain/tick.js';
import { RunnerError } from '../../errors.js';
import { EventQueue } from '../../io/event-queue.js';
import type { InputEvent } from '../../io/interfaces.js';
import { createKafka } from './client.js';
import type { KafkaConfig } from './kafka-config.js';
import type { DeadLetter } from './kafka-signal-sink.js';
import { OffsetTracker } from './offset-tracker.js';

/** Disconnected Kafka clients, kept from garbage collection for the life of the process (see #warmUp). */
const RETIRED_CLIENTS: unknown[] = [];

/**
 * Lifecycle: created → catching-up (reading orders.filled to its end) →
 * consuming (ticks too) → stopping → stopped.
 */
export type InputState = 'created' | 'catching-up' | 'consuming' | 'stopping' | 'stopped';

export interface KafkaInputOptions {
  config: KafkaConfig;
  logger: Logger;
  /** sends a bad record to the dead-letter topic; resolves on acknowledgement */
  deadLetter: (d: DeadLetter) => Promise<void>;
}

interface PartitionState {
  topic: string;
  partition: number;
  /** next offset to read, as far as this process has fetched */
  next: number;
  high: number;
  lastBatchAt: number;
}

/**
 * The runner's input from Kafka, as one ordered stream of InputEvents:
 *  - `orders.filled` is read from the beginning at every start by a consumer
 *    that never commits (its group id is unique per start), so portfolios are
 *    rebuilt from the full history of fills before any tick is consumed; then
 *    it stays subscribed for new fills.
 *  - `market.ticks` is read by the service's consumer group from the
 *    committed offsets. Each fetch becomes one TickBatch; its offsets are
 *    committed only after its signals (and all earlier ones) are acknowledged.
 * Bad records are counted, logged with topic/partition/offset, and sent to the
 * dead-letter topic; the stream goes on. Nothing here throws into the
 * client's handler: a throwing handler makes the client redeliver forever.
 */
export class KafkaInput {
  readonly #c: KafkaConfig;
  readonly #log: Logger;
  readonly #dlq: (d: DeadLetter) => Promise<void>;
  readonly #kafka: KafkaJS.Kafka;
  readonly #queue: EventQueue<InputEvent>;
  readonly #offsets = new OffsetTracker();
  readonly #partitions = new Map<string, PartitionState>();
  #ticks: KafkaJS.Consumer | undefined;
  #fills: KafkaJS.Consumer | undefined;
  #admin: KafkaJS.Admin | undefined;
  #state: InputState = 'created';
  #commitTimer: NodeJS.Timeout | undefined;
  #lagTimer: NodeJS.Timeout | undefined;
  #stopping: Promise<void> | undefined;
  #fillsCaughtUp = false;
  /** resolves when stop() is called: start-up waits race it */
  #stopSignal!: () => void;
  readonly #stopped: Promise<void> = new Promise((resolve) => (this.#stopSignal = resolve));
  /** when an admin request last succeeded: the broker answers */
  #lastBrokerOk = Date.now();
  readonly counters = { ticks: 0, fills: 0, warmupTicks: 0, badTicks: 0, badFills: 0, commits: 0, commitErrors: 0 };

  constructor(o: KafkaInputOptions) {
    this.#c = o.config;
    this.#log = o.logger.child({ component: 'kafka-input' });
    this.#dlq = o.deadLetter;
    this.#kafka = createKafka(o.config, o.logger);
    this.#queue = new EventQueue(o.config.consumer.queueBatches);
  }

  get state(): InputState {
    return this.#state;
  }

  /** The stream the pipeline consumes; it ends after stop(). */
  events(): AsyncIterable<InputEvent> {
    return this.#queue;
  }

  /** Fails with KAFKA_TOPIC_MISSING when a topic the runner reads or writes does not exist. */
  async checkTopics(topics: readonly string[], create: KafkaConfig['createTopics']): Promise<void> {
    const admin = await this.#adminClient();
    const existing = new Set(await admin.listTopics());
    const missing = [...new Set(topics)].filter((t) => !existing.has(t));
    if (missing.length === 0) return;
    if (create.enabled) {
      await admin.createTopics({
        topics: missing.map((topic) => ({ topic, numPartitions: create.partitions, replicationFactor: create.replicationFactor })),
      });
      this.#log.info({ topics: missing }, 'created missing topics');
      return;
    }
    throw new RunnerError('KAFKA_TOPIC_MISSING', `topics missing on the broker: ${missing.join(', ')} (create them, or set kafka.createTopics.enabled)`, {
      details: { missing },
    });
  }

  /** Read orders.filled to its current end, then start consuming ticks. */
  async start(): Promise<void> {
    if (this.#state !== 'created') throw new RunnerError('SUPERVISOR_STATE', `KafkaInput.start() in state ${this.#state}`);
    this.#state = 'catching-up';
    const { topics, consumer } = this.#c;
    const admin = await this.#adminClient();
    const ends = await this.#retry('fetch orders.filled offsets', consumer.fillsCatchUpTimeoutMs, () => admin.fetchTopicOffsets(topics.fills, { timeout: 5000 } as never));
    const targets = new Map(ends.filter((e) => Number(e.high) > Number(e.low)).map((e) => [e.partition, Number(e.high)]));

    this.#fills = this.#kafka.consumer({
      kafkaJS: { groupId: `${this.#c.groupId}.fills.${randomUUID()}`, fromBeginning: true, autoCommit: false },
      'fetch.wait.max.ms': consumer.fetchWaitMaxMs,
      'js.consumer.max.batch.size': consumer.maxBatchSize,
      'session.timeout.ms': consumer.sessionTimeoutMs,
      ...this.#c.consumerOptions,
    });
    let caughtUp!: () => void;
    const caughtUpP = new Promise<void>((resolve) => (caughtUp = resolve));
    const checkCaughtUp = (): void => {
      for (const [p, high] of targets) if ((this.#partitions.get(`${topics.fills}\u0000${p}`)?.next ?? 0) < high) return;
      if (!this.#fillsCaughtUp) {
        this.#fillsCaughtUp = true;
        caughtUp();
      }
    };
    await this.#fills.connect();
    await this.#fills.subscribe({ topics: [topics.fills] });
    await this.#fills.run({
      eachBatch: async ({ batch }) => {
        await this.#onFillBatch(batch);
        checkCaughtUp();
      },
    });
    checkCaughtUp();
    const t0 = Date.now();
    const timer = setTimeout(() => {
      this.#log.error({ waited_ms: Date.now() - t0 }, 'orders.filled not read to its end in time; consuming ticks with the portfolios rebuilt so far');
      this.#fillsCaughtUp = true;
      caughtUp();
    }, consumer.fillsCatchUpTimeoutMs);
    await Promise.race([caughtUpP, this.#stopped]);
    clearTimeout(timer);
    if (this.#state !== 'catching-up') return; // stopped meanwhile
    this.#log.info({ fills: this.counters.fills, ms: Date.now() - t0 }, 'portfolios rebuilt from orders.filled');
    if (this.#state !== 'catching-up') return; // stopped meanwhile
    await this.#warmUp(admin);
    if (this.#state !== 'catching-up') return;

    this.#ticks = this.#kafka.consumer({
      kafkaJS: { groupId: this.#c.groupId, fromBeginning: true, autoCommit: false },
      'fetch.wait.max.ms': consumer.fetchWaitMaxMs,
      'js.consumer.max.batch.size': consumer.maxBatchSize,
      'session.timeout.ms': consumer.sessionTimeoutMs,
      ...this.#c.consumerOptions,
    });
    await this.#ticks.connect();
    if (this.#state !== 'catching-up') return;
    await this.#ticks.subscribe({ topics: [topics.ticks] });
    await this.#ticks.run({ eachBatch: async ({ batch }) => this.#onTickBatch(batch) });
    if (this.#state !== 'catching-up') return;
    this.#commitTimer = setInterval(() => void this.commit(), consumer.commitIntervalMs);
    this.#lagTimer = setInterval(() => void this.#refreshHighWatermarks(), 5000);
    this.#state = 'consuming';
  }

  /**
   * Re-read up to `warmupMessages` ticks per partition before the group's
   * committed offsets, so that strategies rebuild their windows and regimes
   * exactly as they were before the restart. These ticks were processed (and
   * their signals delivered) before the commit: they go through the strategies
   * as warm-up, with signals suppressed. A separate consumer with a throwaway
   * group does the reading, so the service's group offsets are untouched.
   */
  async #warmUp(admin: KafkaJS.Admin): Promise<void> {
    const { topics, consumer, groupId } = this.#c;
    // The group coordinator may still be loading on a broker that just started: retry until the deadline.
    const committed = await this.#retry('fetch committed offsets', consumer.warmupTimeoutMs, () => admin.fetchOffsets({ groupId, topics: [topics.ticks], timeout: 5000 }));
    const ends = new Map((await this.#retry('fetch topic offsets', consumer.warmupTimeoutMs, () => admin.fetchTopicOffsets(topics.ticks, { timeout: 5000 } as never))).map((e) => [e.partition, Number(e.low)]));
    const targets = new Map<number, { start: number; end: number; sought: boolean; done: boolean }>();
    for (const p of committed.find((c) => c.topic === topics.ticks)?.partitions ?? []) {
      const c = Number(p.offset);
      if (!(c >= 0)) continue;
      this.#offsets.floor(topics.ticks, p.partition, c);
      const start = Math.max(ends.get(p.partition) ?? 0, c - consumer.warmupMessages);
      if (start < c) targets.set(p.partition, { start, end: c, sought: false, done: false });
    }
    if (targets.size === 0) return;
    const t0 = Date.now();
    const warm = this.#kafka.consumer({
      kafkaJS: { groupId: `${groupId}.warmup.${randomUUID()}`, fromBeginning: true, autoCommit: false },
      'fetch.wait.max.ms': consumer.fetchWaitMaxMs,
      'js.consumer.max.batch.size': consumer.maxBatchSize,
      ...this.#c.consumerOptions,
    });
    let finished!: () => void;
    const allDone = new Promise<void>((resolve) => (finished = resolve));
    const check = (): void => {
      if ([...targets.values()].every((t) => t.done)) finished();
    };
    let warmed = 0;
    await warm.connect();
    await warm.subscribe({ topics: [topics.ticks] });
    await warm.run({
      eachBatch: async ({ batch }) => {
        try {
          const t = targets.get(batch.partition);
          const first = batch.messages[0];
          if (t === undefined || t.done || first === undefined) return;
          if (!t.sought && Number(first.offset) < t.start) {
            t.sought = true;
            warm.seek({ topic: batch.topic, partition: batch.partition, offset: String(t.start) });
            return;
          }
          t.sought = true;
          const ticks: Tick[] = [];
          for (const m of batch.messages) {
            const o = Number(m.offset);
            if (o < t.start || o >= t.end || m.value === null) continue;
            const r = decodeTick(m.value.toString('utf8'));
            if (r.ok) ticks.push(r.tick); // bad records were dead-lettered the first time
          }
          if (Number(batch.messages.at(-1)!.offset) >= t.end - 1) t.done = true;
          warmed += ticks.length;
          if (ticks.length > 0) await this.#queue.push({ kind: 'ticks', ticks, warmup: true });
          check();
        } catch (err) {
          this.#log.error({ err }, 'warm-up batch failed; continuing without full warm-up');
        }
      },
    });
    const timer = setTimeout(() => {
      this.#log.error({ partitions: [...targets].filter(([, t]) => !t.done).map(([p]) => p) }, 'warm-up not finished in time; strategies may start partly cold');
      finished();
    }, consumer.warmupTimeoutMs);
    await Promise.race([allDone, this.#stopped]);
    clearTimeout(timer);
    await warm.disconnect().catch((err: unknown) => this.#log.warn({ err }, 'warm-up consumer disconnect failed'));
    // Keep the disconnected client reachable: the native binding may still
    // dispatch queued events for it, and a collected client there ends the
    // process (seen as a V8 fatal error in EventDispatcher::Flush).
    RETIRED_CLIENTS.push(warm);
    this.counters.warmupTicks = warmed;
    this.#log.info({ ticks: warmed, partitions: targets.size, ms: Date.now() - t0 }, 'strategies warmed up from ticks before the committed offsets');
  }

  /** Ready once portfolios are rebuilt and the ticks consumer holds an assignment. */
  ready(): boolean {
    return this.#state === 'consuming' && this.#fillsCaughtUp && this.assignment().length > 0 && this.brokerReachable();
  }

  /** False once the broker has not answered the periodic (5 s) metadata request for 15 s. */
  brokerReachable(): boolean {
    return Date.now() - this.#lastBrokerOk < 15_000;
  }

  assignment(): { topic: string; partition: number }[] {
    try {
      return this.#ticks?.assignment().map((a) => ({ topic: a.topic, partition: a.partition })) ?? [];
    } catch {
      return [];
    }
  }

  async #onTickBatch(batch: KafkaJS.Batch): Promise<void> {
    try {
      const part = this.#partition(batch.topic, batch.partition);
      part.lastBatchAt = Date.now();
      part.high = Math.max(part.high, Number(batch.highWatermark));
      const ticks: Tick[] = [];
      const dead: Promise<void>[] = [];
      for (const m of batch.messages) {
        const r = m.value === null ? { ok: false as const, reason: 'empty value (tombstone)' } : decodeTick(m.value.toString('utf8'));
        if (r.ok) ticks.push(r.tick);
        else dead.push(this.#reject(batch.topic, batch.partition, m, r.reason, 'TICK_INVALID'));
      }
      const last = batch.messages.at(-1);
      if (last === undefined) return;
      const next = Number(last.offset) + 1;
      part.next = next;
      this.counters.ticks += ticks.length;
      // Dead letters are acknowledged before the batch can be committed past them.
      await Promise.all(dead);
      const { topic, partition } = batch;
      await this.#queue.push({ kind: 'ticks', ticks, onDelivered: () => this.#offsets.delivered(topic, partition, next) });
    } catch (err) {
      // Never let an error escape: the client would seek back and redeliver this batch forever.
      this.#log.error({ err, topic: batch.topic, partition: batch.partition }, 'tick batch handling failed; stopping input');
      this.#queue.fail(err);
    }
  }

  async #onFillBatch(batch: KafkaJS.Batch): Promise<void> {
    try {
      const part = this.#partition(batch.topic, batch.partition);
      part.lastBatchAt = Date.now();
      part.high = Math.max(part.high, Number(batch.highWatermark));
      const dead: Promise<void>[] = [];
      const fills: Fill[] = [];
      for (const m of batch.messages) {
        const r = m.value === null ? { ok: false as const, reason: 'empty value (tombstone)' } : decodeFill(m.value.toString('utf8'));
        if (r.ok) fills.push(r.fill);
        else dead.push(this.#reject(batch.topic, batch.partition, m, r.reason, 'FILL_INVALID'));
      }
      const last = batch.messages.at(-1);
      if (last !== undefined) part.next = Number(last.offset) + 1;
      this.counters.fills += fills.length;
      await Promise.all(dead);
      for (const fill of fills) await this.#queue.push({ kind: 'fill', fill });
    } catch (err) {
      this.#log.error({ err, topic: batch.topic, partition: batch.partition }, 'fill batch handling failed; stopping input');
      this.#queue.fail(err);
    }
  }

  async #reject(topic: string, partition: number, m: KafkaJS.KafkaMessage, reason: string, code: DeadLetter['code']): Promise<void> {
    if (code === 'TICK_INVALID') this.counters.badTicks++;
    else this.counters.badFills++;
    this.#log.warn({ topic, partition, offset: m.offset, code, reason }, 'bad record sent to the dead-letter topic');
    try {
      await this.#dlq({ topic, partition, offset: m.offset, key: m.key, value: m.value, reason, code });
    } catch (err) {
      // Not acknowledged: fail the input so the offset is never committed past this record.
      throw new RunnerError('KAFKA_UNAVAILABLE', `dead-letter produce failed for ${topic}[${partition}]@${m.offset}: ${(err as Error).message}`, { cause: err });
    }
  }

  #partition(topic: string, partition: number): PartitionState {
    const key = `${topic}\u0000${partition}`;
    let p = this.#partitions.get(key);
    if (p === undefined) this.#partitions.set(key, (p = { topic, partition, next: 0, high: 0, lastBatchAt: 0 }));
    return p;
  }

  /** Commit every offset whose signals are acknowledged. */
  async commit(): Promise<void> {
    const list = this.#offsets.takeCommits();
    if (list.length === 0 || this.#ticks === undefined) return;
    try {
      await this.#ticks.commitOffsets(list);
      this.counters.commits++;
    } catch (err) {
      this.counters.commitErrors++;
      this.#offsets.restore(list);
      this.#log.warn({ err, offsets: list }, 'offset commit failed; will retry');
    }
  }

  /** Retry an admin request with backoff (250 ms doubling to 2 s) until it succeeds or the deadline passes. */
  async #retry<T>(what: string, deadlineMs: number, fn: () => Promise<T>): Promise<T> {
    const t0 = Date.now();
    for (let attempt = 0, delay = 250; ; attempt++, delay = Math.min(2000, delay * 2)) {
      try {
        return await fn();
      } catch (err) {
        if (Date.now() - t0 + delay > deadlineMs || this.#state === 'stopping' || this.#state === 'stopped') {
          throw new RunnerError('KAFKA_UNAVAILABLE', `${what} failed after ${attempt + 1} attempts: ${(err as Error).message}`, { cause: err });
        }
        this.#log.warn({ err: (err as Error).message, attempt: attempt + 1 }, `${what} failed; retrying`);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  async #adminClient(): Promise<KafkaJS.Admin> {
    if (this.#admin === undefined) {
      const admin = this.#kafka.admin();
      await admin.connect();
      this.#admin = admin;
    }
    return this.#admin;
  }

  async #refreshHighWatermarks(): Promise<void> {
    try {
      const admin = await this.#adminClient();
      for (const topic of [this.#c.topics.ticks, this.#c.topics.fills]) {
        for (const e of await admin.fetchTopicOffsets(topic, { timeout: 5000 } as never)) {
          const p = this.#partitions.get(`${topic}\u0000${e.partition}`);
          if (p !== undefined) p.high = Math.max(p.high, Number(e.high));
        }
      }
      this.#lastBrokerOk = Date.now();
    } catch (err) {
      this.#log.warn({ err: (err as Error).message, since_ms: Date.now() - this.#lastBrokerOk }, 'broker does not answer (high watermark refresh failed)');
    }
  }

  /** Per partition: where we are, the end of the log, the lag, the age of the last fetched batch. */
  status(): Record<string, unknown> {
    const now = Date.now();
    const committed = new Map(this.#offsets.snapshot().map((s) => [`${s.topic}\u0000${s.partition}`, s]));
    return {
      state: this.#state,
      ready: this.ready(),
      broker_reachable: this.brokerReachable(),
      last_broker_answer_age_ms: Date.now() - this.#lastBrokerOk,
      fills_caught_up: this.#fillsCaughtUp,
      assignment: this.assignment(),
      partitions: [...this.#partitions.values()].map((p) => {
        const c = committed.get(`${p.topic}\u0000${p.partition}`);
        return {
          topic: p.topic,
          partition: p.partition,
          next_offset: p.next,
          high_watermark: p.high,
          lag: Math.max(0, p.high - p.next),
          delivered_offset: c?.delivered ?? null,
          committed_offset: c?.committed ?? null,
          last_batch_age_ms: p.lastBatchAt === 0 ? null : now - p.lastBatchAt,
        };
      }),
      queued_batches: this.#queue.length,
      counters: this.counters,
    };
  }

  /** Per-partition lag of the ticks topic, for metrics. */
  lag(): { topic: string; partition: number; lag: number }[] {
    return [...this.#partitions.values()].map((p) => ({ topic: p.topic, partition: p.partition, lag: Math.max(0, p.high - p.next) }));
  }

  /**
   * Stop fetching and end the event stream (what is queued is still
   * delivered by the pipeline). Call commit() after the pipeline has drained,
   * then close().
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#state = 'stopping';
      this.#stopSignal();
      clearInterval(this.#commitTimer);
      clearInterval(this.#lagTimer);
      this.#queue.close();
      await Promise.allSettled([this.#ticks?.stop(), this.#fills?.stop()]);
    })();
    return this.#stopping;
  }

  /** Final commit and disconnect (librdkafka waits for pending commits on close). */
  async close(): Promise<void> {
    await this.stop();
    await this.commit();
    const results = await Promise.allSettled([this.#ticks?.disconnect(), this.#fills?.disconnect(), this.#admin?.disconnect()]);
    for (const r of results) if (r.status === 'rejected') this.#log.warn({ err: r.reason }, 'kafka disconnect failed');
    this.#state = 'stopped';
  }
}
