import type { KafkaJS } from '@confluentinc/kafka-javascript';
import type { Logger } from 'pino';
import { EventQueue } from '../../../async/event-queue.js';
import { RunnerError } from '../../../errors.js';
import { Lifecycle } from '../../../lifecycle/lifecycle.js';
import type { InputEvent } from '../../../ports.js';
import type { ConsumerStatus } from '../../../status/status-document.js';
import { Backoff } from '../../../timing/backoff.js';
import { sleep, TIMED_OUT, within } from '../../../timing/sleep.js';
import { BrokerContact } from '../broker-contact.js';
import { createKafka, kafkaError } from '../client.js';
import type { AssignedPartition } from '../consumer-options.js';
import { FillsReader } from '../fills-reader.js';
import { inputCounters, type InputContext, type InputCounters } from '../input-context.js';
import { InputConsumer } from '../input-consumer.js';
import { shardInstance, shardsTopic, type KafkaConfig } from '../kafka-config.js';
import { INPUT_TRANSITIONS, type InputReadiness, type InputState } from '../kafka-input.js';
import type { DeadLetter } from '../kafka-signal-sink.js';
import type { PartitionId } from '../partition-key.js';
import { brokerStatus, brokerUnreachableReason, fetchStatus, partitionStatus, stateReasons } from '../input-status.js';
import { PartitionPositions } from '../partition-position.js';
import { TopicAdmin } from '../topic-admin.js';
import { ShardTransactions } from '../transactions/shard-transactions.js';
import { AssignedReader } from './assigned-reader.js';
import { CatchUpReader } from './catch-up-reader.js';
import { Shard } from './shard.js';
import { ShardBook } from './shard-book.js';
import { ShardPositionStore } from './shard-position-store.js';
import { ShardTickHandler } from './shard-tick-handler.js';
import { shardsStatus, type ShardsStatus } from './shards-status.js';

export interface ShardedInputOptions {
  config: KafkaConfig;
  logger: Logger;
  deadLetter: (d: DeadLetter) => Promise<void>;
  /**
   * The shards held here changed (acquired: start their strategies, without
   * re-warming them from the supervisor's recent ticks; released or dropped:
   * stop them). Awaited: an acquisition feeds ticks only to strategies that
   * run.
   */
  onShards: (held: ReadonlySet<number>) => Promise<void>;
}

/** How long start() waits for the group's first assignment before it returns anyway. */
const FIRST_ASSIGNMENT_WAIT_MS = 30_000;


/**
 * The input of a sharded runner (kafka.shards.enabled; docs/kafka.md
 * "Shards", docs/deployment.md):
 *  - the runners of a deployment share S shards through the consumer group
 *    `kafka.groupId` on the coordination topic (S partitions, partition p =
 *    shard p), with the cooperative-sticky assignor: a runner that joins or
 *    leaves moves only the shards it must;
 *  - every runner reads every partition of market.ticks once (the main
 *    reader, assigned, not subscribed) and gives each tick to the strategies
 *    of the shards it holds;
 *  - each shard has its own position in market.ticks, committed as the
 *    metadata of the coordination group's offset of its partition once its
 *    signals are acknowledged; an acquired shard warms up from the ticks
 *    before its position and catches up to the main reader with a reader of
 *    its own (CatchUpReader), without holding back the shards already live;
 *  - a revoked shard stops taking ticks, waits (bounded) for its signals to
 *    be acknowledged and commits its position before the rebalance goes on;
 *    a lost one (the session expired) is dropped at once and emits nothing
 *    more.
 * orders.filled is read whole, as by KafkaInput: every runner keeps every
 * portfolio, and a strategy that moves here has its portfolio ready.
 */
export class ShardedInput {
  readonly #c: KafkaConfig;
  readonly #o: ShardedInputOptions;
  readonly #log: Logger;
  readonly #life = new Lifecycle<InputState>('ShardedInput', 'created', INPUT_TRANSITIONS);
  readonly #stop = new AbortController();
  readonly #queue: EventQueue<InputEvent>;
  readonly #positions = new PartitionPositions();
  readonly #broker = new BrokerContact();
  readonly #admin: TopicAdmin;
  readonly #ctx: InputContext;
  readonly #fills: FillsReader;
  readonly book: ShardBook;
  readonly #main: AssignedReader;
  readonly #coordinator: InputConsumer;
  readonly #catchUps = new Set<CatchUpReader>();
  readonly #topic: string;
  readonly instance: string;
  readonly counters: InputCounters = inputCounters();
  readonly shardCounters = { acquired: 0, released: 0, lost: 0, fenced: 0, rebalances: 0, positionsUnreadable: 0, releaseTimeouts: 0, droppedSignals: 0 };
  /**
   * kafka.delivery exactly-once: each shard's signals, dead letters and
   * position committed in one transaction of the shard's producer (the sink
   * behind the gate; the positions are committed only there).
   */
  readonly transactions: ShardTransactions | undefined;
  readonly #store: ShardPositionStore;
  #highs = new Map<number, number>();
  #commitTimer: NodeJS.Timeout | undefined;
  #lagTimer: NodeJS.Timeout | undefined;
  #stopping: Promise<void> | undefined;
  #joined = false;
  /** resolves when the first assignment (possibly of no shard) has been acquired */
  readonly #firstAssignment: Promise<void>;
  #firstAssigned!: () => void;
  #ticksPartitions: number[] = [];

  constructor(o: ShardedInputOptions) {
    this.#c = o.config;
    this.#o = o;
    this.#log = o.logger.child({ component: 'kafka-input' });
    this.#queue = new EventQueue(o.config.consumer.queueBatches);
    this.#firstAssignment = new Promise((resolve) => (this.#firstAssigned = resolve));
    this.#topic = shardsTopic(o.config);
    this.instance = shardInstance(o.config);
    const kafka: KafkaJS.Kafka = createKafka(o.config, o.logger);
    this.book = new ShardBook(o.config.shards.count);
    this.transactions =
      o.config.delivery === 'exactly-once'
        ? new ShardTransactions({
            config: o.config,
            logger: o.logger,
            book: this.book,
            coordinationTopic: this.#topic,
            consumer: () => this.#coordinator.client,
            unsharded: o.deadLetter,
            runner: this.instance,
            onFenced: (id) => this.#fenced(id),
          })
        : undefined;
    const txns = this.transactions;
    this.#ctx = {
      config: o.config,
      log: this.#log,
      counters: this.counters,
      positions: this.#positions,
      broker: this.#broker,
      queue: this.#queue,
      deadLetter: txns === undefined ? o.deadLetter : (d) => txns.deadLetter(d),
      stopped: this.#stop.signal,
      // Shards warm up from their own positions; snapshots are not used with shards (yet).
      warmFrom: new Map(),
    };
    this.#admin = new TopicAdmin(kafka);
    this.#fills = new FillsReader(this.#ctx, this.#admin);
    const mainHandler = new ShardTickHandler(this.#ctx, this.book, 'main');
    this.#main = new AssignedReader({
      config: o.config,
      logger: this.#log,
      role: 'ticks-reader',
      groupId: `${o.config.groupId}.reader.${this.instance}`,
      handle: (messages) => mainHandler.onMessages(messages),
      onFatal: (err) => {
        this.#log.error({ err }, 'the ticks reader cannot go on; stopping input');
        this.#queue.fail(err);
      },
    });
    const session = o.config.shards.sessionTimeoutMs;
    this.#coordinator = new InputConsumer({
      config: o.config,
      logger: this.#log,
      role: 'shards-coordinator',
      groupId: o.config.groupId,
      topic: this.#topic,
      owner: { assigned: (parts) => this.#acquire(parts), revoked: (parts, lost) => this.#revoked(parts, lost) },
      handle: () => undefined, // nothing is written to the coordination topic: its partitions are the shards
      onFatal: (err) => {
        this.#log.error({ err }, 'the shards coordinator cannot go on; stopping input');
        this.#queue.fail(err);
      },
      onCommitted: (err, offsets) => this.#store.answered(err, offsets),
      extraOptions: {
        'partition.assignment.strategy': 'cooperative-sticky',
        'session.timeout.ms': session,
        'heartbeat.interval.ms': Math.max(100, Math.floor(session / 5)),
        'client.id': `${o.config.clientId}/${this.instance}`,
      },
    });
    this.#store = new ShardPositionStore({
      coordinator: this.#coordinator,
      topic: this.#topic,
      ticksTopic: o.config.topics.ticks,
      book: this.book,
      counters: this.counters,
      shardCounters: this.shardCounters,
      broker: this.#broker,
      log: this.#log,
      stopped: this.#stop.signal,
    });
  }

  get state(): InputState {
    return this.#life.state;
  }

  events(): AsyncIterable<InputEvent> {
    return this.#queue;
  }

  /** The coordination topic, as the deployment needs it. */
  get coordinationTopic(): string {
    return this.#topic;
  }

  /**
   * The topics the runner reads and writes must exist (KAFKA_TOPIC_MISSING,
   * or created with kafka.createTopics.enabled); the coordination topic is
   * created when missing (it is the runner's own) and must have exactly
   * kafka.shards.count partitions (SHARDS_MISMATCH).
   */
  async checkTopics(topics: readonly string[], create: KafkaConfig['createTopics']): Promise<void> {
    const missing = await this.#admin.missingTopics([...topics, this.#topic]);
    this.#broker.answered();
    const own = missing.includes(this.#topic);
    const others = missing.filter((t) => t !== this.#topic);
    if (others.length > 0 && !create.enabled) {
      throw new RunnerError('KAFKA_TOPIC_MISSING', `topics missing on the broker: ${others.join(', ')} (create them, or set kafka.createTopics.enabled)`, { details: { missing: others } });
    }
    if (others.length > 0) await this.#admin.createTopics(others, create, { tolerateRace: true });
    if (own) {
      await this.#admin.createTopics([this.#topic], { partitions: this.#c.shards.count, replicationFactor: create.replicationFactor }, { tolerateRace: true });
      this.#log.info({ topic: this.#topic, shards: this.#c.shards.count }, 'created the coordination topic');
    }
    const deadline = Date.now() + 10_000;
    for (;;) {
      const still = await this.#admin.missingTopics(missing);
      if (still.length === 0) break;
      if (Date.now() > deadline || this.#stop.signal.aborted) throw new RunnerError('KAFKA_UNAVAILABLE', `topics created but not visible in the broker's metadata after 10 s: ${still.join(', ')}`);
      await sleep(100, this.#stop.signal);
    }
    const partitions = (await this.#admin.watermarks(this.#topic)).length;
    if (partitions !== this.#c.shards.count) {
      throw new RunnerError(
        'SHARDS_MISMATCH',
        `the coordination topic ${this.#topic} has ${partitions} partitions and kafka.shards.count is ${this.#c.shards.count}: every runner of a deployment needs the same count, equal to the topic's (docs/deployment.md, "Changing the shard count")`,
        { details: { topic: this.#topic, partitions, count: this.#c.shards.count } },
      );
    }
  }

  /** Read orders.filled to its end, start the main reader at the end of market.ticks, then join the coordination group. */
  async start(): Promise<void> {
    this.#life.require('start', 'created');
    this.#life.to('catching-up');
    await this.#fills.catchUp();
    if (!this.#life.is('catching-up')) return;
    const ticks = this.#c.topics.ticks;
    let ends;
    try {
      ends = await this.#admin.watermarks(ticks);
    } catch (err) {
      throw kafkaError(err, `read the partitions of ${ticks}`);
    }
    this.#ticksPartitions = ends.map((e) => e.partition).sort((a, b) => a - b);
    for (const e of ends) {
      this.book.mainNext.set(e.partition, e.high);
      this.#highs.set(e.partition, e.high);
    }
    try {
      await this.#main.start(ends.map((e) => ({ topic: ticks, partition: e.partition, offset: e.high })));
      if (!this.#life.is('catching-up')) return;
      await this.#coordinator.start();
    } catch (err) {
      throw kafkaError(err, 'connect the sharded ticks reader and the shards coordinator');
    }
    this.#log.info({ instance: this.instance, group: this.#c.groupId, topic: this.#topic, shards: this.book.count, ticks_partitions: this.#ticksPartitions.length }, 'joining the deployment; waiting for shards');
    if (!this.#life.is('catching-up')) return;
    // Started means the group has given this runner its shards (none, for a standby) and their strategies run,
    // as they do when a runner without shards starts; bounded, since the group could take long to answer.
    if ((await within(this.#firstAssignment, FIRST_ASSIGNMENT_WAIT_MS, this.#stop.signal)) === TIMED_OUT && !this.#stop.signal.aborted) {
      this.#log.warn({ waited_ms: FIRST_ASSIGNMENT_WAIT_MS, group: this.#c.groupId }, 'no shard assignment from the group yet; running, and taking shards when it comes');
    }
    if (!this.#life.is('catching-up')) return;
    if (this.transactions === undefined) this.#commitTimer = setInterval(() => this.commit(), this.#c.consumer.commitIntervalMs);
    else this.transactions.start();
    this.#lagTimer = setInterval(() => void this.#refreshHighWatermarks(), 5000);
    this.#life.to('consuming');
  }

  // ---- acquisition ----

  async #acquire(parts: PartitionId[]): Promise<AssignedPartition[]> {
    try {
      return await this.#acquireShards(parts);
    } finally {
      this.#firstAssigned();
    }
  }

  async #acquireShards(parts: PartitionId[]): Promise<AssignedPartition[]> {
    this.shardCounters.rebalances++;
    this.#joined = true;
    const ids = parts.filter((p) => p.topic === this.#topic).map((p) => p.partition);
    const out = parts.map((p) => ({ topic: p.topic, partition: p.partition, offset: -1 })); // OFFSET_END: nothing is read there
    if (ids.length === 0 || this.#stop.signal.aborted) return out;
    const t0 = Date.now();
    // Exactly-once: the shards' producers first. Their initTransactions fences the previous owners and ends what they
    // left open, so the positions read next are final (a pending transactional offset is read once it is decided).
    if (this.transactions !== undefined) await this.transactions.acquire(ids, this.#stop.signal);
    if (this.#stop.signal.aborted) return out;
    const stored = await this.#store.read(ids, this.#ticksPartitions);
    if (this.#stop.signal.aborted) return out;
    const shards: Shard[] = [];
    for (const id of ids) {
      const old = this.book.get(id);
      if (old !== undefined) this.book.delete(old);
      const shard = new Shard(id);
      this.book.add(shard);
      shards.push(shard);
    }
    // Their strategies start before any tick is given to them (no re-warm from recent ticks: the catch-up warms them).
    await this.#o.onShards(this.held());
    const { warmupMessages } = this.#c.consumer;
    const starts = new Map<number, number>();
    let cohort: CatchUpReader | undefined;
    const feedOf = (): CatchUpReader => (cohort ??= new CatchUpReader(this.#ctx, this.book, starts, (r) => this.#catchUpDone(r)));
    for (const shard of shards) {
      if (shard.state !== 'acquiring') continue; // revoked or lost meanwhile
      const position = stored.positions.get(shard.id);
      for (const p of this.#ticksPartitions) {
        const pos = position?.get(p) ?? stored.legacy.get(p);
        const at = pos ?? 0;
        const warmStart = pos === undefined ? 0 : Math.max(0, at - warmupMessages);
        const mainNext = this.book.mainNext.get(p) ?? 0;
        if (warmStart < mainNext) {
          shard.addPartition(p, at, warmStart, feedOf());
          starts.set(p, Math.min(starts.get(p) ?? warmStart, warmStart));
        } else {
          const part = shard.addPartition(p, at, warmStart, 'main');
          // Exactly at the main reader: it gets every tick from here (an idle partition would never show it a message).
          if (at === mainNext) part.joined = true;
        }
      }
      shard.life.to('active');
      this.shardCounters.acquired++;
    }
    this.#log.info(
      { shards: ids, positions: Object.fromEntries(shards.map((s) => [s.id, Object.fromEntries(s.position())])), catch_up: cohort === undefined ? null : Object.fromEntries(starts), ms: Date.now() - t0 },
      'shards acquired',
    );
    if (cohort !== undefined) {
      this.#catchUps.add(cohort);
      void this.#startCatchUp(cohort);
    }
    return out;
  }

  /**
   * Start a catch-up reader, again and again while it cannot connect (the
   * broker away during a rebalance): its shards wait, the live ones go on,
   * and the runner never stops for it.
   */
  async #startCatchUp(cohort: CatchUpReader): Promise<void> {
    const backoff = new Backoff({ initialMs: 1000, maxMs: 10_000 });
    for (let attempt = 1; ; attempt++) {
      try {
        await cohort.start();
        return;
      } catch (err) {
        if (this.#stop.signal.aborted || cohort.remaining() === 0) return;
        const delay = backoff.next();
        this.#log.warn({ err: (err as Error).message, attempt, retry_in_ms: delay }, 'a shard catch-up reader could not connect; retrying (its shards wait, the others go on)');
        if (!(await sleep(delay, this.#stop.signal))) return;
      }
    }
  }

  #catchUpDone(r: CatchUpReader): void {
    this.#catchUps.delete(r);
    void r.close();
    this.#log.info({ partitions: Object.fromEntries(r.starts) }, 'shard catch-up finished: its shards are fed by the main reader');
  }

  // ---- release and loss ----

  async #revoked(parts: PartitionId[], lost: boolean): Promise<void> {
    this.shardCounters.rebalances++;
    const ids = parts.filter((p) => p.topic === this.#topic).map((p) => p.partition);
    const shards = ids.map((id) => this.book.get(id)).filter((s): s is Shard => s !== undefined);
    // Producers opened for shards whose acquisition did not finish.
    this.transactions?.drop(ids.filter((id) => this.book.get(id) === undefined), 'not acquired');
    if (shards.length === 0) return;
    if (this.#stop.signal.aborted) {
      // Stopping: their positions were committed by close(); the runtime stops every strategy after the clients close.
      for (const s of shards) this.#drop(s, 'released');
      this.#log.info({ shards: shards.map((s) => s.id), positions: Object.fromEntries(shards.map((s) => [s.id, Object.fromEntries(s.position())])) }, 'shards released');
      return;
    }
    if (lost) {
      // Another runner may hold them already: nothing more is emitted for them from here (the gate), at once.
      for (const s of shards) this.#drop(s, 'dropped');
      this.transactions?.drop(shards.map((s) => s.id), 'lost');
      this.#log.warn({ shards: shards.map((s) => s.id) }, 'shards lost (the group session expired): dropped, nothing more is emitted for them');
      this.#stopStrategies();
      return;
    }
    const t0 = Date.now();
    for (const s of shards) if (s.state === 'acquiring' || s.state === 'active') s.life.to('releasing');
    const waited = await within(Promise.all(shards.map((s) => s.drained())), this.#c.shards.releaseTimeoutMs);
    if (waited === TIMED_OUT) {
      this.shardCounters.releaseTimeouts++;
      this.#log.warn({ shards: shards.filter((s) => s.pending > 0).map((s) => s.id), timeout_ms: this.#c.shards.releaseTimeoutMs }, 'release: signals still unacknowledged after the timeout; committing what is, the next owner emits the rest');
    }
    const releasing = shards.filter((s) => s.state === 'releasing');
    // Exactly-once: the shard's last transaction carries its settled signals and its position; else the position alone.
    if (this.transactions !== undefined) await this.transactions.release(releasing.map((s) => s.id));
    else await this.#store.commit(releasing, true);
    for (const s of releasing) this.#drop(s, 'released');
    this.#log.info({ shards: shards.map((s) => s.id), positions: Object.fromEntries(releasing.map((s) => [s.id, Object.fromEntries(s.position())])), ms: Date.now() - t0 }, 'shards released');
    this.#stopStrategies();
  }

  /**
   * Stop the strategies of shards no longer held, without holding the
   * rebalance up (a strategy's onStop may take its time): they get no ticks
   * and nothing they emit is published any more. The supervisor applies
   * configuration changes one after the other, so an acquisition that
   * follows starts its strategies after these stopped.
   */
  #stopStrategies(): void {
    this.#o.onShards(this.held()).catch((err: unknown) => this.#log.error({ err }, 'stopping the strategies of released shards failed'));
  }

  #drop(s: Shard, to: 'released' | 'dropped'): void {
    if (s.state === 'released' || s.state === 'dropped') return;
    if (to === 'released' && s.state !== 'releasing') s.life.to('releasing');
    s.life.to(to);
    this.book.delete(s);
    if (to === 'released') this.shardCounters.released++;
    else this.shardCounters.lost++;
  }

  /**
   * A shard's producer was fenced: a new owner holds the shard (this runner
   * was paused or cut off past the session timeout and the group moved it).
   * Dropped at once, like a lost shard: nothing more is emitted for it here.
   */
  #fenced(id: number): void {
    const s = this.book.get(id);
    if (s === undefined) return;
    this.#drop(s, 'dropped');
    this.shardCounters.fenced++;
    this.#log.warn({ shard: id }, 'shard fenced by its new owner: dropped, nothing more is emitted for it');
    this.#stopStrategies();
  }

  /** The shards held here (their strategies run here). */
  held(): ReadonlySet<number> {
    return new Set([...this.book.all()].map((s) => s.id));
  }

  // ---- positions ----

  /** Commit the position of every shard whose acknowledged position moved (every commitIntervalMs, and at close). */
  commit(): void {
    if (this.transactions !== undefined) return; // committed inside the shards' transactions
    void this.#store.commit(
      [...this.book.all()].filter((s) => (s.state === 'active' || s.state === 'releasing') && s.changed()),
      false,
    );
  }

  // ---- status ----

  readiness(now = Date.now()): InputReadiness {
    const state = this.#life.state;
    const reasons = stateReasons(state, this.#fills.caughtUp, `joining the deployment's group ${this.#c.groupId}`);
    const broker = brokerUnreachableReason(this.#broker, now);
    if (broker !== undefined) reasons.push(broker);
    if (state === 'consuming') {
      if (!this.#joined) reasons.push(`waiting for the group ${this.#c.groupId} to assign shards`);
      const mainNext = (p: number): number | undefined => this.book.mainNext.get(p);
      const busy = [...this.book.all()].filter((s) => ['acquiring', 'warming'].includes(s.phase(mainNext))).map((s) => s.id);
      if (busy.length > 0) reasons.push(`shards ${busy.join(', ')} acquiring or warming up`);
    }
    return { ready: reasons.length === 0, reasons };
  }

  brokerReachable(now = Date.now()): boolean {
    return this.#broker.reachable(now);
  }

  /** The partitions of market.ticks the main reader reads (all of them). */
  assignment(): { topic: string; partition: number }[] {
    return this.#ticksPartitions.map((partition) => ({ topic: this.#c.topics.ticks, partition }));
  }

  async #refreshHighWatermarks(): Promise<void> {
    try {
      for (const e of await this.#admin.watermarks(this.#c.topics.ticks)) this.#highs.set(e.partition, Math.max(this.#highs.get(e.partition) ?? 0, e.high));
      for (const e of await this.#admin.watermarks(this.#c.topics.fills)) {
        const p = this.#positions.find(this.#c.topics.fills, e.partition);
        if (p !== undefined) p.high = Math.max(p.high, e.high);
      }
      this.#broker.answered();
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'broker does not answer (high watermark refresh failed)');
    }
  }

  /** `consumer` on /status: the main reader's partitions (no group offsets: positions are per shard, in `shards`). */
  status(): ConsumerStatus {
    const now = Date.now();
    const readiness = this.readiness(now);
    const ticks = this.#c.topics.ticks;
    return {
      state: this.#life.state,
      ready: readiness.ready,
      not_ready_reasons: readiness.reasons,
      ...brokerStatus(this.#broker, now),
      fills_caught_up: this.#fills.caughtUp,
      assignment: this.assignment(),
      warming_up_partitions: [],
      partitions: [
        ...this.#ticksPartitions.map((p) => {
          const next = this.book.mainNext.get(p) ?? null;
          const high = Math.max(this.#highs.get(p) ?? 0, next ?? 0);
          return { topic: ticks, partition: p, next_offset: next, warm_until_offset: 0, high_watermark: high, lag: Math.max(0, high - (next ?? 0)), delivered_offset: null, committed_offset: null, last_batch_age_ms: null };
        }),
        ...[...this.#positions.all()].map((p) => partitionStatus(p, now)),
      ],
      queued_batches: this.#queue.length,
      fetch: fetchStatus(this.#main.stats),
      counters: this.counters,
    };
  }

  /** `shards` on /status; `strategiesOf`: the strategies of a shard that run here. */
  shardsStatus(strategiesOf: (shard: number) => string[]): ShardsStatus {
    return shardsStatus({
      strategiesOf,
      instance: this.instance,
      group: this.#c.groupId,
      topic: this.#topic,
      count: this.book.count,
      book: this.book,
      highs: this.#highs,
      catchUps: this.#catchUps.size,
      counters: this.shardCounters,
    });
  }

  lag(): { topic: string; partition: number; lag: number }[] {
    const ticks = this.#c.topics.ticks;
    return this.#ticksPartitions.map((p) => {
      const next = this.book.mainNext.get(p) ?? 0;
      return { topic: ticks, partition: p, lag: Math.max(0, (this.#highs.get(p) ?? 0) - next) };
    });
  }

  // ---- shutdown ----

  /** Stop reading ticks and fills and end the event stream (what is queued is still delivered). */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#life.to('stopping');
      this.#stop.abort();
      clearInterval(this.#commitTimer);
      clearInterval(this.#lagTimer);
      this.#queue.close();
      await Promise.allSettled([this.#main.stop(), this.#fills.stop(), ...[...this.#catchUps].map((c) => c.close())]);
    })();
    return this.#stopping;
  }

  /** After the pipeline drained: commit every shard's position (waiting for the answer), leave the group, close the clients. */
  async close(): Promise<void> {
    await this.stop();
    // Before the coordination consumer leaves: a transaction's offsets carry its group membership.
    if (this.transactions !== undefined) await this.transactions.close();
    else await this.#store.commit([...this.book.all()].filter((s) => s.state === 'active' || s.state === 'releasing'), true);
    const results = await Promise.allSettled([this.#coordinator.disconnect(), this.#main.disconnect(), this.#fills.disconnect(), this.#admin.close()]);
    for (const r of results) if (r.status === 'rejected') this.#log.warn({ err: r.reason }, 'kafka disconnect failed');
    for (const s of [...this.book.all()]) this.#drop(s, 'released');
    this.#life.to('stopped');
  }
}
