import type { KafkaJS } from '@confluentinc/kafka-javascript';
import type { Logger } from 'pino';
import { RunnerError } from '../../errors.js';
import { EventQueue } from '../../async/event-queue.js';
import { sleep } from '../../timing/sleep.js';
import type { InputEvent } from '../../ports.js';
import { Lifecycle, type TransitionTable } from '../../lifecycle/lifecycle.js';
import { BrokerContact } from './broker-contact.js';
import { createKafka } from './client.js';
import { CommitScheduler } from './commit-scheduler.js';
import { FillsReader } from './fills-reader.js';
import { inputCounters, type InputContext, type InputCounters } from './input-context.js';
import type { KafkaConfig } from './kafka-config.js';
import type { DeadLetter } from './kafka-signal-sink.js';
import { brokerStatus, brokerUnreachableReason, fetchStatus, partitionStatus, stateReasons } from './input-status.js';
import { lagOf, PartitionPositions } from './partition-position.js';
import { TicksReader } from './ticks-reader.js';
import { TopicAdmin } from './topic-admin.js';
import type { ConsumerStatus } from '../../status/status-document.js';

/**
 * Lifecycle: created → catching-up (reading orders.filled to its end) →
 * consuming (ticks too) → stopping → stopped. stop() is legal from any state
 * before stopping; close() ends in stopped.
 */
export type InputState = 'created' | 'catching-up' | 'consuming' | 'stopping' | 'stopped';

/** The input's lifecycle table (ShardedInput has the same one). */
export const INPUT_TRANSITIONS: TransitionTable<InputState> = {
  created: ['catching-up', 'stopping'],
  'catching-up': ['consuming', 'stopping'],
  consuming: ['stopping'],
  stopping: ['stopped'],
  stopped: [],
};

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
 * The runner's input from Kafka, as one ordered stream of InputEvents
 * (docs/kafka.md; the parts: docs/kafka-modules.md):
 *  - `orders.filled` is read to its end first (FillsReader), so portfolios
 *    are rebuilt before any tick is consumed; then it stays subscribed.
 *  - `market.ticks` is read by the service's consumer group (TicksReader):
 *    each fetch becomes one TickBatch, with a warm-up part after a restart,
 *    and no tick is dispatched twice whatever the client delivers.
 *  - offsets are committed only after their signals (and all earlier ones)
 *    are acknowledged (CommitScheduler), from the one position map
 *    (PartitionPositions).
 * Bad records are counted, logged and dead-lettered; the stream goes on.
 * Nothing here throws into the client's handler: a throwing handler makes the
 * client redeliver forever.
 */
export class KafkaInput {
  readonly #c: KafkaConfig;
  readonly #log: Logger;
  readonly #lifecycle = new Lifecycle<InputState>('KafkaInput', 'created', INPUT_TRANSITIONS);
  readonly #stop = new AbortController();
  readonly #queue: EventQueue<InputEvent>;
  readonly #positions = new PartitionPositions();
  readonly #warmFrom = new Map<string, number>();
  readonly #broker = new BrokerContact();
  readonly #admin: TopicAdmin;
  readonly #fills: FillsReader;
  readonly #ticks: TicksReader;
  readonly #commits: CommitScheduler;
  #lagTimer: NodeJS.Timeout | undefined;
  #stopping: Promise<void> | undefined;
  readonly counters: InputCounters = inputCounters();

  constructor(o: KafkaInputOptions) {
    this.#c = o.config;
    this.#log = o.logger.child({ component: 'kafka-input' });
    this.#queue = new EventQueue(o.config.consumer.queueBatches);
    const kafka: KafkaJS.Kafka = createKafka(o.config, o.logger);
    const ctx: InputContext = {
      config: o.config,
      log: this.#log,
      counters: this.counters,
      positions: this.#positions,
      broker: this.#broker,
      queue: this.#queue,
      deadLetter: o.deadLetter,
      stopped: this.#stop.signal,
      warmFrom: this.#warmFrom,
    };
    this.#admin = new TopicAdmin(kafka);
    this.#fills = new FillsReader(ctx, this.#admin);
    this.#commits = new CommitScheduler(this.#positions, this.counters, this.#log, () => (this.#ticks.started ? (list) => this.#ticks.commitOffsets(list) : undefined));
    this.#ticks = new TicksReader(ctx, (err, offsets) => this.#commits.answered(err, offsets));
  }

  get state(): InputState {
    return this.#lifecycle.state;
  }

  /**
   * Before start: a restart's warm-up of these partitions (`topic/partition`
   * → offset) starts at most there, so that strategies restored from older
   * snapshots see every tick after them.
   */
  warmFrom(offsets: Record<string, number>): void {
    for (const [key, offset] of Object.entries(offsets)) {
      const cur = this.#warmFrom.get(key);
      if (Number.isSafeInteger(offset) && offset >= 0 && (cur === undefined || offset < cur)) this.#warmFrom.set(key, offset);
    }
  }

  /** Per `topic/partition` of market.ticks: every tick below the offset has had its signals acknowledged (so its strategies have processed it). */
  deliveredPositions(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const p of this.#positions.all()) if (p.topic === this.#c.topics.ticks && p.delivered !== undefined) out[`${p.topic}/${p.partition}`] = p.delivered;
    return out;
  }

  /** The stream the pipeline consumes; it ends after stop(). */
  events(): AsyncIterable<InputEvent> {
    return this.#queue;
  }

  /** Fails with KAFKA_TOPIC_MISSING when a topic the runner reads or writes does not exist. */
  async checkTopics(topics: readonly string[], create: KafkaConfig['createTopics']): Promise<void> {
    const missing = await this.#admin.missingTopics(topics);
    this.#broker.answered();
    if (missing.length === 0) return;
    if (create.enabled) {
      await this.#admin.createTopics(missing, create);
      // The broker answers CreateTopics before every metadata answer lists the new topics: wait until they do.
      const deadline = Date.now() + 10_000;
      let still = await this.#admin.missingTopics(missing);
      while (still.length > 0 && Date.now() < deadline && !this.#stop.signal.aborted) {
        await sleep(100, this.#stop.signal);
        still = await this.#admin.missingTopics(missing);
      }
      if (still.length > 0) throw new RunnerError('KAFKA_UNAVAILABLE', `topics created but not visible in the broker's metadata after 10 s: ${still.join(', ')}`, { details: { missing: still } });
      this.#log.info({ topics: missing }, 'created missing topics');
      return;
    }
    throw new RunnerError('KAFKA_TOPIC_MISSING', `topics missing on the broker: ${missing.join(', ')} (create them, or set kafka.createTopics.enabled)`, {
      details: { missing },
    });
  }

  /** Read orders.filled to its current end, then start consuming ticks. */
  async start(): Promise<void> {
    this.#lifecycle.require('start', 'created');
    this.#lifecycle.to('catching-up');
    await this.#fills.catchUp();
    if (!this.#lifecycle.is('catching-up')) return; // stopped meanwhile
    if (!(await this.#ticks.start()) || !this.#lifecycle.is('catching-up')) return;
    this.#commits.start(this.#c.consumer.commitIntervalMs);
    this.#lagTimer = setInterval(() => void this.#refreshHighWatermarks(), 5000);
    this.#lifecycle.to('consuming');
  }

  /**
   * Ready (portfolios rebuilt, the ticks consumer holds an assignment, its
   * warm-up is done, the broker answers) or not, and why not, in words an
   * operator can act on.
   */
  readiness(now = Date.now()): InputReadiness {
    const state = this.#lifecycle.state;
    const reasons = stateReasons(state, this.#fills.caughtUp, 'joining the consumer group of market.ticks');
    const broker = brokerUnreachableReason(this.#broker, now);
    if (broker !== undefined) reasons.push(broker);
    if (state === 'consuming') {
      const assigned = this.assignment();
      if (assigned.length === 0) reasons.push(`no partitions of ${this.#c.topics.ticks} assigned`);
      const warming = this.warmingUp(assigned);
      if (warming.length > 0) reasons.push(`warming up strategies from ${this.#c.topics.ticks} partitions ${warming.join(', ')}`);
      // A consumer that stops fetching after a rebalance while its heartbeats go on (a known client
      // bug) shows only as this: lag, no batch for a long time, and the queue to the strategies not full.
      if (this.#queue.length < this.#c.consumer.queueBatches) {
        for (const a of assigned) {
          const p = this.#positions.find(a.topic, a.partition);
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
      const p = this.#positions.find(a.topic, a.partition);
      if (p !== undefined && (p.next ?? 0) < p.warmUntil && p.high > (p.next ?? 0)) out.push(a.partition);
    }
    return out;
  }

  /** False once the broker has not answered for 15 s (fetched batches, admin requests: a metadata request every 5 s, committed-offset reads). */
  brokerReachable(now = Date.now()): boolean {
    return this.#broker.reachable(now);
  }

  assignment(): { topic: string; partition: number }[] {
    return this.#ticks.assignment();
  }

  /** Hand every offset whose signals are acknowledged to the client's commit (the broker's answer is counted as it comes). */
  commit(): Promise<void> {
    this.#commits.commit();
    return Promise.resolve();
  }

  /** The high watermarks of both topics, for the lag (and a sign of life from the broker every 5 s). */
  async #refreshHighWatermarks(): Promise<void> {
    try {
      for (const topic of [this.#c.topics.ticks, this.#c.topics.fills]) {
        for (const e of await this.#admin.watermarks(topic)) {
          const p = this.#positions.find(topic, e.partition);
          if (p !== undefined) p.high = Math.max(p.high, e.high);
        }
      }
      this.#broker.answered();
    } catch (err) {
      this.#log.warn({ err: (err as Error).message, since_ms: Date.now() - this.#broker.lastAnswerAt }, 'broker does not answer (high watermark refresh failed)');
    }
  }

  /** Per partition: where we are, the end of the log, the lag, the age of the last fetched batch. */
  status(): ConsumerStatus {
    const now = Date.now();
    const readiness = this.readiness(now);
    return {
      state: this.#lifecycle.state,
      ready: readiness.ready,
      not_ready_reasons: readiness.reasons,
      ...brokerStatus(this.#broker, now),
      fills_caught_up: this.#fills.caughtUp,
      assignment: this.assignment(),
      warming_up_partitions: this.warmingUp(),
      partitions: [...this.#positions.all()].map((p) => partitionStatus(p, now)),
      queued_batches: this.#queue.length,
      fetch: fetchStatus(this.#ticks.fetchStats),
      counters: this.counters,
    };
  }

  /** Per-partition lag of the topics read (ticks and fills), for metrics. */
  lag(): { topic: string; partition: number; lag: number }[] {
    return [...this.#positions.all()].map((p) => ({ topic: p.topic, partition: p.partition, lag: lagOf(p) }));
  }

  /**
   * Stop fetching and end the event stream (what is queued is still
   * delivered by the pipeline). Call commit() after the pipeline has drained,
   * then close().
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#lifecycle.to('stopping');
      this.#stop.abort();
      this.#commits.stop();
      clearInterval(this.#lagTimer);
      this.#queue.close();
      await Promise.allSettled([this.#ticks.stop(), this.#fills.stop()]);
    })();
    return this.#stopping;
  }

  /** Final commit and disconnect (librdkafka waits for pending commits on close). */
  async close(): Promise<void> {
    await this.stop();
    await this.commit();
    const results = await Promise.allSettled([this.#ticks.disconnect(), this.#fills.disconnect(), this.#admin.close()]);
    for (const r of results) if (r.status === 'rejected') this.#log.warn({ err: r.reason }, 'kafka disconnect failed');
    this.#lifecycle.to('stopped');
  }
}

/** No batch for this long from a partition that has messages waiting, while the queue has room: stalled. */
const STALL_MS = 30_000;
