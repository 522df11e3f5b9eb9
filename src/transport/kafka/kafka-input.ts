import { randomUUID } from 'node:crypto';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import type { Logger } from 'pino';
import { decodeFill, type Fill } from '../../domain/fill.js';
import { decodeTick, type Tick } from '../../domain/tick.js';
import { RunnerError } from '../../errors.js';
import { EventQueue } from '../../io/event-queue.js';
import type { InputEvent } from '../../io/interfaces.js';
import { createKafka, kafkaError } from './client.js';
import type { KafkaConfig } from './kafka-config.js';
import type { DeadLetter } from './kafka-signal-sink.js';
import { OffsetTracker } from './offset-tracker.js';
import { PartitionPositions, planAssignment, type PartitionPosition } from './partition-position.js';

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

/** Why the input is not ready (empty when it is). */
export interface InputReadiness {
  ready: boolean;
  reasons: string[];
}

/**
 * The runner's input from Kafka, as one ordered stream of InputEvents:
 *  - `orders.filled` is read from the beginning at every start by a consumer
 *    that never commits (its group id is unique per start), so portfolios are
 *    rebuilt from the full history of fills before any tick is consumed; then
 *    it stays subscribed for new fills.
 *  - `market.ticks` is read by the service's consumer group. Each fetch
 *    becomes one TickBatch; its offsets are committed only after its signals
 *    (and all earlier ones) are acknowledged. Where each assigned partition
 *    starts is decided in the rebalance callback (`planAssignment`): a
 *    restart re-reads up to `warmupMessages` ticks before the committed
 *    offset as warm-up, and a partition assigned again (a lost session, a
 *    rebalance) resumes at this process's own position, so no strategy ever
 *    sees a tick twice, whatever the client delivers.
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
  readonly #partitions = new PartitionPositions();
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
  readonly counters = {
    ticks: 0,
    fills: 0,
    /** ticks re-read to rebuild strategy state (no signals) */
    warmupTicks: 0,
    /** ticks the client delivered again below this process's own position (never dispatched twice) */
    redeliveredTicks: 0,
    badTicks: 0,
    badFills: 0,
    commits: 0,
    commitErrors: 0,
    /** partitions assigned to the ticks consumer, over the life of the process */
    assignments: 0,
    /** partitions revoked or lost */
    revocations: 0,
    lostPartitions: 0,
  };

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
    this.#brokerAnswered();
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
      // Its group never commits: after a lost session it would read orders.filled from the beginning
      // again. Harmless (fills are de-duplicated by fill_id) but slow on a long history: resume instead.
      rebalance_cb: (err: { code: number }, assignment: KafkaJS.TopicPartition[]) => (err.code === ERR_ASSIGN_PARTITIONS ? this.#resumeFills(assignment) : undefined),
    } as KafkaJS.ConsumerConstructorConfig);
    let caughtUp!: () => void;
    const caughtUpP = new Promise<void>((resolve) => (caughtUp = resolve));
    const checkCaughtUp = (): void => {
      for (const [p, high] of targets) if ((this.#partitions.find(topics.fills, p)?.next ?? 0) < high) return;
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

    const ticks = this.#kafka.consumer({
      kafkaJS: { groupId: this.#c.groupId, fromBeginning: true, autoCommit: false },
      'fetch.wait.max.ms': consumer.fetchWaitMaxMs,
      'js.consumer.max.batch.size': consumer.maxBatchSize,
      'session.timeout.ms': consumer.sessionTimeoutMs,
      ...this.#c.consumerOptions,
      // Where each assigned partition starts: our own position wins over the group's committed offset.
      rebalance_cb: (err: { code: number }, assignment: KafkaJS.TopicPartition[], fns: { assignmentLost(): boolean }) => this.#onRebalance(err, assignment, fns),
    } as KafkaJS.ConsumerConstructorConfig);
    this.#ticks = ticks;
    await ticks.connect();
    if (this.#state !== 'catching-up') return;
    await ticks.subscribe({ topics: [topics.ticks] });
    await ticks.run({ eachBatch: async ({ batch }) => this.#onTickBatch(batch) });
    if (this.#state !== 'catching-up') return;
    this.#commitTimer = setInterval(() => void this.commit(), consumer.commitIntervalMs);
    this.#lagTimer = setInterval(() => void this.#refreshHighWatermarks(), 5000);
    this.#state = 'consuming';
  }

  /**
   * The ticks consumer's rebalance callback. On assignment, decide where each
   * partition starts (see planAssignment) from our own position and the
   * group's committed offset, read through this consumer's own group handle:
   * the admin client's OffsetFetch can crash the process (docs/kafka.md).
   * Returns the assignment with explicit offsets; the client assigns it.
   * On revocation or loss, positions are kept: if a partition comes back,
   * it resumes where this process left it.
   */
  async #onRebalance(err: { code: number }, assignment: KafkaJS.TopicPartition[], fns: { assignmentLost(): boolean }): Promise<AssignedPartition[] | undefined> {
    const parts = assignment.map((a) => ({ topic: a.topic, partition: a.partition }));
    if (err.code !== ERR_ASSIGN_PARTITIONS) {
      const lost = fns.assignmentLost();
      this.counters.revocations += parts.length;
      if (lost) this.counters.lostPartitions += parts.length;
      this.#log.warn({ partitions: parts, lost }, lost ? 'ticks partitions lost (session expired); positions kept for when they come back' : 'ticks partitions revoked');
      return undefined;
    }
    this.counters.assignments += parts.length;
    const committed = await this.#committedOffsets(parts);
    const { warmupMessages } = this.#c.consumer;
    const out: AssignedPartition[] = [];
    for (const tp of parts) {
      const pos = this.#partitions.get(tp.topic, tp.partition);
      const c = committed.get(tp.partition);
      if (c !== undefined && c >= 0) this.#offsets.floor(tp.topic, tp.partition, c);
      const plan = planAssignment(pos.next, pos.warmUntil, c, warmupMessages);
      pos.warmUntil = plan.warmUntil;
      // The log reaches at least the committed offset: the partition counts as warming up from now, not from its first fetch.
      pos.high = Math.max(pos.high, plan.warmUntil);
      // Fetching resumes at the plan's start; anything below it that the client still hands over is skipped.
      if (plan.start !== undefined) pos.next = plan.start;
      // No offset: the group's committed one, else the reset policy (earliest).
      out.push(plan.start === undefined ? { ...tp } : { ...tp, offset: plan.start });
      const facts = { topic: tp.topic, partition: tp.partition, committed: c ?? null, start: plan.start ?? null, warm_until: plan.warmUntil };
      if (plan.gap > 0) this.#log.warn({ ...facts, gap: plan.gap }, 'partition taken over after another owner moved further than the warm-up reaches: its strategies skip ticks');
      else if (plan.action !== 'fresh') this.#log.info({ ...facts, action: plan.action }, 'ticks partition assigned');
    }
    return out;
  }

  /** Fills partitions assigned again start where this process left them; new ones from the beginning. */
  #resumeFills(assignment: KafkaJS.TopicPartition[]): AssignedPartition[] {
    return assignment.map((a) => {
      const next = this.#partitions.find(a.topic, a.partition)?.next;
      return next === undefined ? { topic: a.topic, partition: a.partition } : { topic: a.topic, partition: a.partition, offset: next };
    });
  }

  /**
   * The group's committed offsets of these partitions, read through the ticks
   * consumer's group handle (`committed()`), retried until it answers or the
   * input stops: a wrong start would either re-emit or skip ticks.
   */
  async #committedOffsets(parts: { topic: string; partition: number }[]): Promise<Map<number, number>> {
    for (let attempt = 1, delay = 250; ; attempt++, delay = Math.min(5000, delay * 2)) {
      try {
        const list = await this.#ticks!.committed(parts, 10_000);
        // A partition the broker answered with an error comes back without its partition number: not "no commit".
        const failed = list.filter((c) => typeof c.partition !== 'number');
        if (failed.length > 0) throw new Error(`${failed.length} of ${parts.length} partitions answered with an error`);
        this.#brokerAnswered();
        // The client reports "no commit" and a commit at 0 alike, as null: both mean "start at the beginning, nothing to warm up".
        return new Map(list.filter((c) => c.offset !== null).map((c) => [c.partition, Number(c.offset)]));
      } catch (err) {
        if (this.#state === 'stopping' || this.#state === 'stopped') return new Map();
        this.#log.warn({ err: (err as Error).message, attempt, retry_in_ms: delay }, 'committed offsets of the assigned ticks partitions not readable yet; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /**
   * Ready (portfolios rebuilt, the ticks consumer holds an assignment, its
   * warm-up is done, the broker answers) or not, and why not, in words an
   * operator can act on.
   */
  readiness(now = Date.now()): InputReadiness {
    const reasons: string[] = [];
    if (this.#state === 'created') reasons.push('Kafka input not started');
    else if (this.#state === 'catching-up') reasons.push(this.#fillsCaughtUp ? 'joining the consumer group of market.ticks' : 'rebuilding portfolios from orders.filled');
    else if (this.#state !== 'consuming') reasons.push(`Kafka input ${this.#state}`);
    if (!this.brokerReachable(now)) {
      reasons.push(`Kafka broker unreachable: no answer since ${new Date(this.#lastBrokerOk).toISOString()} (${Math.round((now - this.#lastBrokerOk) / 1000)} s)`);
    }
    if (this.#state === 'consuming') {
      const assigned = this.assignment();
      if (assigned.length === 0) reasons.push(`no partitions of ${this.#c.topics.ticks} assigned`);
      const warming = this.warmingUp(assigned);
      if (warming.length > 0) reasons.push(`warming up strategies from ${this.#c.topics.ticks} partitions ${warming.join(', ')}`);
      // A consumer that stops fetching after a rebalance while its heartbeats go on (a known client
      // bug) shows only as this: lag, no batch for a long time, and the queue to the strategies not full.
      if (this.#queue.length < this.#c.consumer.queueBatches) {
        for (const a of assigned) {
          const p = this.#partitions.find(a.topic, a.partition);
          if (p === undefined || lagOf(p) === 0 || p.lastBatchAt === 0 || now - p.lastBatchAt < STALL_MS) continue;
          reasons.push(`ticks consumer stalled: ${lagOf(p)} messages waiting in ${a.topic}[${a.partition}] and no batch for ${Math.round((now - p.lastBatchAt) / 1000)} s`);
        }
      }
    }
    return { ready: reasons.length === 0, reasons };
  }

  /** Assigned partitions still re-reading warm-up ticks (below warmUntil, with more to read). */
  warmingUp(assigned = this.assignment()): number[] {
    const out: number[] = [];
    for (const a of assigned) {
      const p = this.#partitions.find(a.topic, a.partition);
      if (p !== undefined && (p.next ?? 0) < p.warmUntil && p.high > (p.next ?? 0)) out.push(a.partition);
    }
    return out;
  }

  /** False once the broker has not answered for 15 s (fetched batches, admin requests: a metadata request every 5 s, committed-offset reads). */
  brokerReachable(now = Date.now()): boolean {
    return now - this.#lastBrokerOk < 15_000;
  }

  #brokerAnswered(now = Date.now()): void {
    this.#lastBrokerOk = now;
  }

  assignment(): { topic: string; partition: number }[] {
    try {
      return this.#ticks?.assignment().map((a) => ({ topic: a.topic, partition: a.partition })) ?? [];
    } catch {
      return [];
    }
  }

  /**
   * One fetched batch: offsets below this process's position are skipped
   * (already dispatched), offsets below warmUntil go to the strategies as
   * warm-up (no signals), the rest is live. A bad record is dead-lettered
   * only when live: in the warm-up range it was dead-lettered the first time.
   */
  async #onTickBatch(batch: KafkaJS.Batch): Promise<void> {
    try {
      const part = this.#partitions.get(batch.topic, batch.partition);
      part.lastBatchAt = Date.now();
      this.#brokerAnswered(part.lastBatchAt);
      part.high = Math.max(part.high, Number(batch.highWatermark));
      const last = batch.messages.at(-1);
      if (last === undefined) return;
      const from = part.next;
      const next = Number(last.offset) + 1;
      if (from !== undefined && next <= from) {
        this.counters.redeliveredTicks += batch.messages.length;
        return;
      }
      const warmUntil = part.warmUntil;
      const warm: Tick[] = [];
      const ticks: Tick[] = [];
      const dead: Promise<void>[] = [];
      // The common case, a live batch at or past the position: no offset to compare per message.
      const allLive = Number(batch.messages[0]!.offset) >= Math.max(from ?? 0, warmUntil);
      for (const m of batch.messages) {
        const o = allLive ? Infinity : Number(m.offset);
        if (from !== undefined && o < from) {
          this.counters.redeliveredTicks++;
          continue;
        }
        const r = m.value === null ? { ok: false as const, reason: 'empty value (tombstone)' } : decodeTick(m.value.toString('utf8'));
        if (o < warmUntil) {
          if (r.ok) warm.push(r.tick);
        } else if (r.ok) ticks.push(r.tick);
        else dead.push(this.#reject(batch.topic, batch.partition, m, r.reason, 'TICK_INVALID'));
      }
      part.next = next;
      this.counters.warmupTicks += warm.length;
      this.counters.ticks += ticks.length;
      if (warm.length > 0) await this.#queue.push({ kind: 'ticks', ticks: warm, warmup: true });
      if (next <= warmUntil) return; // all warm-up: nothing to commit
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
      const part = this.#partitions.get(batch.topic, batch.partition);
      part.lastBatchAt = Date.now();
      this.#brokerAnswered(part.lastBatchAt);
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

  /** Retry an admin request with backoff (250 ms doubling to 2 s) until it succeeds or the deadline passes (then the last error, classified). */
  async #retry<T>(what: string, deadlineMs: number, fn: () => Promise<T>): Promise<T> {
    const t0 = Date.now();
    for (let attempt = 0, delay = 250; ; attempt++, delay = Math.min(2000, delay * 2)) {
      try {
        const r = await fn();
        this.#brokerAnswered();
        return r;
      } catch (err) {
        // Every error is retried until the deadline, a missing topic too: the topics were checked just
        // before, and a topic that was just created is unknown to a broker for a moment. The last error
        // is classified by its code.
        if (Date.now() - t0 + delay > deadlineMs || this.#state === 'stopping' || this.#state === 'stopped') {
          throw kafkaError(err, `${what} failed after ${attempt + 1} attempts`);
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
          const p = this.#partitions.find(topic, e.partition);
          if (p !== undefined) p.high = Math.max(p.high, Number(e.high));
        }
      }
      this.#brokerAnswered();
    } catch (err) {
      this.#log.warn({ err: (err as Error).message, since_ms: Date.now() - this.#lastBrokerOk }, 'broker does not answer (high watermark refresh failed)');
    }
  }

  /** Per partition: where we are, the end of the log, the lag, the age of the last fetched batch. */
  status(): Record<string, unknown> {
    const now = Date.now();
    const committed = new Map(this.#offsets.snapshot().map((s) => [PartitionPositions.key(s.topic, s.partition), s]));
    const readiness = this.readiness(now);
    return {
      state: this.#state,
      ready: readiness.ready,
      not_ready_reasons: readiness.reasons,
      broker_reachable: this.brokerReachable(now),
      last_broker_answer_age_ms: now - this.#lastBrokerOk,
      broker_unreachable_since: this.brokerReachable(now) ? null : new Date(this.#lastBrokerOk).toISOString(),
      fills_caught_up: this.#fillsCaughtUp,
      assignment: this.assignment(),
      warming_up_partitions: this.warmingUp(),
      partitions: [...this.#partitions.all()].map((p) => {
        const c = committed.get(PartitionPositions.key(p.topic, p.partition));
        return {
          topic: p.topic,
          partition: p.partition,
          next_offset: p.next ?? null,
          warm_until_offset: p.warmUntil,
          high_watermark: p.high,
          lag: lagOf(p),
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
    return [...this.#partitions.all()].map((p) => ({ topic: p.topic, partition: p.partition, lag: lagOf(p) }));
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

/** Messages between our position and the end of the log (a partition not read yet counts from 0). */
function lagOf(p: PartitionPosition): number {
  return Math.max(0, p.high - (p.next ?? 0));
}

/**
 * What the rebalance callback returns: the client hands it to librdkafka's
 * assign as it is, so the offset must be a number (a string throws there and
 * the partitions are silently not assigned).
 */
interface AssignedPartition {
  topic: string;
  partition: number;
  offset?: number;
}

/** No batch for this long from a partition that has messages waiting, while the queue has room: stalled. */
const STALL_MS = 30_000;

/** librdkafka's RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS: the rebalance callback's "assign" event. */
const ERR_ASSIGN_PARTITIONS = -175;
