import type { Logger } from 'pino';
import type { Signal } from '../../../domain/signal.js';
import type { SignalSink } from '../../../ports.js';
import { Backoff } from '../../../timing/backoff.js';
import { sleep } from '../../../timing/sleep.js';
import { deadLetterHeaders, signalHeaders, type DeadLetter } from '../kafka-signal-sink.js';
import { shardTransactionalId, signalTopic, type KafkaConfig } from '../kafka-config.js';
import type { NativeConsumer } from '../native-client.js';
import type { ShardBook } from '../shards/shard-book.js';
import { encodeShardPosition, positionOffset, type ShardPosition } from '../shards/shard-position.js';
import { classifyTxnError, type TxnErrorAction } from './txn-error.js';
import { TransactionalProducer } from './transactional-producer.js';
import { ShardTxn, type PendingDeadLetter, type PendingSignal } from './shard-txn.js';
import { transactionsStatus, type TransactionsStatus } from './transactions-status.js';

export interface ShardTransactionsOptions {
  config: KafkaConfig;
  logger: Logger;
  book: ShardBook;
  /** the coordination topic: a shard's position is its group offset there */
  coordinationTopic: string;
  /** the coordination consumer's client (its group metadata goes with every transaction's offsets) */
  consumer: () => NativeConsumer | undefined;
  /** dead letters that belong to no shard (bad fills) go here, outside any transaction */
  unsharded: (d: DeadLetter) => Promise<void>;
  /** the `runner` header of each signal */
  runner: string;
  /** a shard's producer was fenced: another runner holds it now; drop it at once */
  onFenced: (shard: number) => void;
  /** builds a shard's producer (the tests give failing ones: a fatal error cannot be provoked from a broker at will) */
  producerFactory?: (transactionalId: string) => TxnProducer;
}

/** What a shard transaction needs of its producer (TransactionalProducer). */
export type TxnProducer = Pick<TransactionalProducer, 'open' | 'begin' | 'produce' | 'sendOffsets' | 'commit' | 'abort' | 'close'>;

/** Commits retried in a row after a retriable error (each bounded by TXN_CALL_TIMEOUT_MS) before the transaction is aborted. */
const COMMIT_RETRIES = 3;

/**
 * Exactly-once delivery (kafka.delivery: exactly-once; docs/kafka.md
 * "Exactly-once"): the sink of a sharded runner that publishes each
 * shard's signals, its dead letters and its position in market.ticks in one
 * Kafka transaction of the shard's own producer (transactional.id
 * `{prefix}.shard-{n}`), every `transactions.commitIntervalMs` or
 * `maxRounds` settled rounds, whichever comes first.
 *
 * What goes into a transaction: the pipeline numbers its rounds and says when
 * one is settled (every round before it too, and the shards' positions moved
 * past its ticks: the input's marks run first). A transaction takes the
 * shard's signals of settled rounds, its dead letters whose record its
 * position has passed, and that position, so a transaction never carries a
 * signal whose tick is after the position it commits, nor commits a position
 * past a tick whose signal is not in it or an earlier one.
 *
 * A new owner's initTransactions (at acquisition, before it reads the
 * position) fences the old owner's producer and aborts what it left open: a
 * runner whose shard moved while it was paused cannot commit for it again,
 * and drops the shard when its commit says it was fenced.
 */
export class ShardTransactions implements SignalSink {
  readonly name: string;
  readonly #o: ShardTransactionsOptions;
  readonly #c: KafkaConfig;
  readonly #log: Logger;
  readonly #txns = new Map<number, ShardTxn>();
  /** the last settled round: signals of rounds up to it may be committed */
  #cut = -1;
  #roundsSinceCycle = 0;
  #timer: NodeJS.Timeout | undefined;
  #cycleRunning: Promise<void> | undefined;
  #cycleSoon = false;
  #buffered = 0;
  #roomWaiters: (() => void)[] = [];
  #closed = false;
  readonly counters = { committed: 0, aborted: 0, fenced: 0, rebuilds: 0, droppedSignals: 0, initFailures: 0 };
  /** durations of committed transactions (ms), the last 1024, for the percentiles on /status */
  readonly #durations: number[] = [];

  constructor(o: ShardTransactionsOptions) {
    this.#o = o;
    this.#c = o.config;
    this.#log = o.logger.child({ component: 'shard-transactions' });
    this.name = `kafka-transactions:${o.config.topics.signals}`;
  }

  /** Start committing every commitIntervalMs. */
  start(): void {
    this.#timer ??= setInterval(() => this.#requestCycle(), this.#c.transactions.commitIntervalMs);
  }

  // ---- the sink ----

  write(signals: readonly Signal[], round?: number): Promise<void> {
    const now = Date.now();
    const r = round ?? this.#cut; // late signals (conflated ticks) belong to no round: the next transaction
    const set = this.#c.producer.signalHeaders;
    const book = this.#o.book;
    for (const s of signals) {
      const t = this.#txns.get(book.index.of(s.strategy_id));
      if (t === undefined || t.closed) {
        this.counters.droppedSignals++;
        continue;
      }
      const p: PendingSignal = { round: r, topic: signalTopic(this.#c, s.broker), value: Buffer.from(JSON.stringify(s)), key: String(s.instrument_token), headers: signalHeaders(set, s, this.#o.runner) };
      t.add(p, now);
      this.#buffered++;
    }
    if (this.#buffered < this.#c.transactions.maxBufferedSignals) return Promise.resolve();
    // Backpressure: the pipeline waits until commits make room (a broker away holds everything here).
    this.#requestCycle();
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  /** The pipeline settled every round up to `round`. */
  roundSettled(round: number): void {
    if (round > this.#cut) this.#cut = round;
    if (++this.#roundsSinceCycle >= this.#c.transactions.maxRounds) this.#requestCycle();
  }

  /** A bad record: into its shard's next transaction that passes it; a record of no shard (a fill) outside any. */
  deadLetter(d: DeadLetter): Promise<void> {
    const t = d.shard === undefined ? undefined : this.#txns.get(d.shard);
    if (t === undefined || t.closed) {
      if (d.shard !== undefined) return Promise.resolve(); // the shard is no longer here: its next owner dead-letters it
      return this.#o.unsharded(d);
    }
    t.addDeadLetter({ partition: d.partition, offset: Number(d.offset), topic: this.#c.topics.deadLetter, value: d.value, key: d.key, headers: deadLetterHeaders(d) }, Date.now());
    return Promise.resolve();
  }

  /** Commit every held shard's transaction now (the pipeline's end). */
  async flush(): Promise<void> {
    await this.#cycle(true);
  }

  /** Commit what is left, then close every producer. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#cycleRunning;
    await this.#cycle(true);
    await Promise.allSettled([...this.#txns.values()].map((t) => this.#closeTxn(t)));
    this.#txns.clear();
    this.#wakeRoom();
  }

  // ---- ownership ----

  /**
   * Before an acquisition reads its shards' positions: open each shard's
   * producer (initTransactions fences the previous owner and aborts its open
   * transaction, so the position read next is final). Retried until it
   * succeeds or `stopped`.
   */
  async acquire(ids: readonly number[], stopped: AbortSignal): Promise<void> {
    const queue = [...ids];
    const worker = async (): Promise<void> => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        const old = this.#txns.get(id);
        if (old !== undefined) {
          this.#forget(old, 'acquired again');
          await this.#closeTxn(old);
        }
        const t = new ShardTxn(id);
        this.#txns.set(id, t);
        await this.#open(t, stopped);
      }
    };
    await Promise.all(Array.from({ length: Math.min(4, ids.length) }, worker));
  }

  /** A release: commit the shard's last transaction (its rounds are settled), then close its producer. */
  async release(ids: readonly number[]): Promise<void> {
    await Promise.all(
      ids.map(async (id) => {
        const t = this.#txns.get(id);
        if (t === undefined) return;
        for (let attempt = 1; attempt <= 3 && !t.closed; attempt++) {
          if (await this.#commit(t, true)) break;
        }
        this.#forget(t, 'released');
        await this.#closeTxn(t);
      }),
    );
  }

  /** A lost shard (or one fenced): drop what waits, close its producer; its next owner aborts anything left open. */
  drop(ids: readonly number[], why: 'lost' | 'fenced' | 'not acquired'): void {
    for (const id of ids) {
      const t = this.#txns.get(id);
      if (t === undefined) continue;
      this.#forget(t, why);
      void this.#closeTxn(t);
    }
  }

  #forget(t: ShardTxn, why: string): void {
    const dropped = t.discard();
    this.#buffered -= dropped;
    this.counters.droppedSignals += dropped;
    if (this.#txns.get(t.id) === t) this.#txns.delete(t.id);
    if (dropped > 0) this.#log.info({ shard: t.id, dropped_signals: dropped, why }, 'shard transaction given up: its uncommitted signals are dropped (its next owner emits them)');
    this.#wakeRoom();
  }

  // ---- committing ----

  #requestCycle(): void {
    if (this.#closed && this.#txns.size === 0) return;
    if (this.#cycleRunning !== undefined) {
      this.#cycleSoon = true;
      return;
    }
    this.#cycleRunning = this.#cycle(false).finally(() => {
      this.#cycleRunning = undefined;
      if (this.#cycleSoon) {
        this.#cycleSoon = false;
        this.#requestCycle();
      }
    });
  }

  /** Commit the shards that have something to commit, `transactions.concurrency` at a time. */
  async #cycle(all: boolean): Promise<void> {
    this.#roundsSinceCycle = 0;
    const now = Date.now();
    const due = [...this.#txns.values()].filter((t) => !t.closed && this.#due(t, now, all));
    const queue = [...due];
    const worker = async (): Promise<void> => {
      for (let t = queue.shift(); t !== undefined; t = queue.shift()) if (!t.closed) await this.#commit(t, all);
    };
    await Promise.all(Array.from({ length: Math.min(this.#c.transactions.concurrency, queue.length) }, worker));
  }

  #due(t: ShardTxn, now: number, all: boolean): boolean {
    if (t.producer === undefined) return false;
    if (t.signals.length > 0 || t.deadLetters.length > 0) return true;
    const shard = this.#o.book.get(t.id);
    // The shard keeps what its last commit carried: `changed()` is whether its position moved since.
    if (shard === undefined || !shard.changed()) return false;
    return all || now - t.positionCommittedAt >= this.#c.transactions.positionIntervalMs;
  }

  /** One transaction of one shard, after the one in flight; true when it committed (or there was nothing to commit). */
  #commit(t: ShardTxn, final: boolean): Promise<boolean> {
    const prev = t.running ?? Promise.resolve();
    const run = prev.then(() => (t.closed ? false : this.#commitOnce(t, final)));
    const done = run.then(
      () => undefined,
      () => undefined,
    );
    t.running = done;
    void done.then(() => {
      if (t.running === done) t.running = undefined;
    });
    return run;
  }

  async #commitOnce(t: ShardTxn, final: boolean): Promise<boolean> {
    const shard = this.#o.book.get(t.id);
    const consumer = this.#o.consumer();
    const producer = t.producer;
    if (shard === undefined || !shard.emits || consumer === undefined || producer === undefined || t.closed) return false;
    const position: ShardPosition = shard.position();
    const signals = t.takeSignals(this.#cut);
    const deadLetters = t.takeDeadLetters(position);
    if (signals.length === 0 && deadLetters.length === 0 && !shard.changed()) return true;
    const t0 = performance.now();
    let step = 'begin';
    try {
      await producer.begin();
      step = 'produce';
      for (const d of deadLetters) producer.produce(d.topic, d.value, d.key, d.headers);
      for (const s of signals) producer.produce(s.topic, s.value, s.key, s.headers);
      step = 'sendOffsets';
      await producer.sendOffsets([{ topic: this.#o.coordinationTopic, partition: t.id, offset: positionOffset(position), metadata: encodeShardPosition(position) }], consumer);
      step = 'commit';
      await this.#commitWithRetries(t, producer);
    } catch (err) {
      await this.#failed(t, producer, signals, deadLetters, err, step);
      return false;
    }
    const ms = performance.now() - t0;
    const now = Date.now();
    this.#buffered -= signals.length;
    t.committed(ms, signals.length, deadLetters.length, now);
    t.positionCommittedAt = now;
    shard.markCommitted(position);
    this.counters.committed++;
    this.#durations.push(ms);
    if (this.#durations.length > 1024) this.#durations.splice(0, this.#durations.length - 1024);
    if (final) this.#log.debug({ shard: t.id, signals: signals.length, position: Object.fromEntries(position) }, 'shard transaction committed');
    this.#wakeRoom();
    return true;
  }

  async #commitWithRetries(t: ShardTxn, producer: TxnProducer): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await producer.commit();
        return;
      } catch (err) {
        // A commit that timed out is finished by calling commit again, never by an abort (which can leave the producer fatal).
        if (classifyTxnError(err) !== 'retry' || attempt > COMMIT_RETRIES || t.closed) throw err;
        t.stats.retries++;
        this.#log.warn({ shard: t.id, attempt, err: (err as Error).message }, 'shard transaction commit not answered in time; committing again');
      }
    }
  }

  /** A transaction failed at `step`: put its content back, then abort, rebuild or give the shard up, by the error's class. */
  async #failed(t: ShardTxn, producer: TxnProducer, signals: PendingSignal[], deadLetters: PendingDeadLetter[], err: unknown, step: string): Promise<void> {
    t.putBack(signals, deadLetters, Date.now());
    t.stats.aborted++;
    this.counters.aborted++;
    t.stats.lastError = `${step}: ${(err as Error)?.message ?? String(err)}`;
    let action: TxnErrorAction = classifyTxnError(err);
    const facts = { shard: t.id, step, kafka_code: (err as { code?: unknown })?.code, err: (err as Error)?.message, action };
    if (action === 'fenced') return this.#fenced(t, facts);
    if (action === 'abort' || action === 'retry') {
      this.#log.warn(facts, 'shard transaction failed; aborting it, its signals go into the next one');
      try {
        await producer.abort();
        return;
      } catch (abortErr) {
        action = classifyTxnError(abortErr);
        if (action === 'fenced') return this.#fenced(t, { ...facts, step: 'abort', err: (abortErr as Error).message });
        this.#log.warn({ shard: t.id, kafka_code: (abortErr as { code?: unknown })?.code, err: (abortErr as Error).message }, 'aborting the shard transaction failed; building its producer again');
      }
    } else {
      this.#log.error(facts, 'fatal error of a shard producer; building it again (its initTransactions aborts what the old one left open)');
    }
    await this.#rebuild(t);
  }

  #fenced(t: ShardTxn, facts: Record<string, unknown>): void {
    this.counters.fenced++;
    this.#log.warn(facts, 'shard producer fenced: another runner holds the shard now; dropping it, nothing more is emitted for it here');
    this.#forget(t, 'fenced');
    void this.#closeTxn(t);
    this.#o.onFenced(t.id);
  }

  async #rebuild(t: ShardTxn): Promise<void> {
    this.counters.rebuilds++;
    t.stats.rebuilds++;
    const old = t.producer;
    t.producer = undefined;
    await old?.close().catch(() => undefined);
    if (t.closed) return;
    const stop = new AbortController();
    // Rebuilding stops when the shard is given up meanwhile.
    const watch = setInterval(() => t.closed && stop.abort(), 200);
    try {
      await this.#open(t, stop.signal);
    } finally {
      clearInterval(watch);
    }
  }

  /** Open the shard's producer, again and again until it is open, the shard is given up or `stopped`. */
  async #open(t: ShardTxn, stopped: AbortSignal): Promise<void> {
    const backoff = new Backoff({ initialMs: 250, maxMs: 5000 });
    for (let attempt = 1; !t.closed && !stopped.aborted; attempt++) {
      const id = shardTransactionalId(this.#c, t.id);
      const p = this.#o.producerFactory?.(id) ?? new TransactionalProducer({ config: this.#c, logger: this.#log, transactionalId: id });
      try {
        await p.open();
        if (t.closed || stopped.aborted) {
          await p.close();
          return;
        }
        t.producer = p;
        return;
      } catch (err) {
        this.counters.initFailures++;
        await p.close().catch(() => undefined);
        const delay = backoff.next();
        this.#log.warn({ shard: t.id, attempt, kafka_code: (err as { code?: unknown })?.code, err: (err as Error).message, retry_in_ms: delay }, 'shard producer could not init its transactions; retrying');
        if (!(await sleep(delay, stopped))) return;
      }
    }
  }

  async #closeTxn(t: ShardTxn): Promise<void> {
    t.closed = true;
    await t.running;
    const p = t.producer;
    t.producer = undefined;
    await p?.close().catch(() => undefined);
  }

  #wakeRoom(): void {
    if (this.#buffered >= this.#c.transactions.maxBufferedSignals && !this.#closed) return;
    const w = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const f of w) f();
  }

  // ---- status ----

  status(now = Date.now()): TransactionsStatus {
    return transactionsStatus({ txns: this.#txns.values(), counters: this.counters, durations: this.#durations, buffered: this.#buffered, cut: this.#cut, config: this.#c.transactions, now, idOf: (id) => shardTransactionalId(this.#c, id) });
  }
}
