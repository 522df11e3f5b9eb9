import type { Logger } from 'pino';
import type { Signal } from '../../domain/signal.js';
import { RunnerError } from '../../errors.js';
import type { SignalSink } from '../../ports.js';
import { sleep } from '../../timing/sleep.js';
import { errorCode } from './client.js';
import { signalTopic, type KafkaConfig } from './kafka-config.js';
import { connectNative, createNativeProducer, disconnectNative, ERR, nativeBaseOptions, type NativeProducer } from './native-client.js';
import type { ProducerStatus } from '../../status/status-document.js';

export interface DeadLetter {
  /** where the bad record came from */
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  reason: string;
  code: 'TICK_INVALID' | 'FILL_INVALID';
  /** a sharded runner: the shard that dead-letters the record (its transaction carries it under exactly-once) */
  shard?: number;
}

/** One write() (or one dead letter): resolved when its last message is acknowledged, rejected at its first failure. */
interface Delivery {
  remaining: number;
  readonly startedAt: number;
  readonly signals: number;
  readonly topics: Iterable<string>;
  resolve: () => void;
  reject: (err: unknown) => void;
  settled: boolean;
}

/** A message's headers as the low-level producer takes them. */
export type Headers = { [key: string]: string | Buffer }[];

/** A dead letter's headers: why, what code, and where the record came from. */
export function deadLetterHeaders(d: DeadLetter): Headers {
  return [
    { 'x-dlq-reason': d.reason },
    { 'x-dlq-error-code': d.code },
    { 'x-dlq-source-topic': d.topic },
    { 'x-dlq-source-partition': String(d.partition) },
    { 'x-dlq-source-offset': d.offset },
    { 'x-dlq-at': new Date().toISOString() },
  ];
}

/** A message not yet handed to librdkafka (its local queue was full). */
interface Waiting {
  topic: string;
  value: Buffer | null;
  key: string | Buffer | null;
  headers: Headers | undefined;
  delivery: Delivery;
}

/** The header sets a signal can carry (kafka.producer.signalHeaders). */
export function signalHeaders(set: KafkaConfig['producer']['signalHeaders'], s: Signal, runner?: string): Headers | undefined {
  if (set === 'full') {
    const h: Headers = [{ 'strategy-id': s.strategy_id }, { 'signal-id': s.signal_id }, { 'strategy-type': s.strategy_type }];
    // A sharded runner names itself: which runner of the deployment emitted a signal.
    if (runner !== undefined) h.push({ runner });
    return h;
  }
  if (set === 'id') return [{ 'signal-id': s.signal_id }];
  return undefined;
}

/**
 * Publishes signals to `{broker}.signals.raw` (key: instrument token;
 * headers: strategy id, signal id, strategy type, or the leaner set of
 * `kafka.producer.signalHeaders`) and bad input records to the dead-letter
 * topic, through the client's low-level producer: one `produce()` per
 * message, delivery reports polled on librdkafka's background thread or
 * every `kafka.producer.deliveryPollMs` from the event loop (the
 * KafkaJS-compatible `send` builds a Promise per message and costs about 1.5×
 * the CPU per signal: docs/kafka.md).
 *
 * `write()` resolves when the broker has acknowledged every signal it was
 * given (acks=all, idempotent producer) and rejects with
 * SIGNAL_DELIVERY_FAILED at the first that cannot be delivered. It is called
 * without awaiting the previous write: many rounds are in flight and the
 * produce order is the call order, also when librdkafka's local queue is full
 * (what does not fit waits, in order, for deliveries to make room).
 */
export class KafkaSignalSink implements SignalSink {
  readonly name: string;
  readonly #c: KafkaConfig;
  readonly #log: Logger;
  readonly #producer: NativeProducer;
  #connected = false;
  #closing: Promise<void> | undefined;
  /** messages waiting for room in librdkafka's queue, in produce order */
  #waiting: Waiting[] = [];
  #retryTimer: NodeJS.Timeout | undefined;
  /** writes not yet settled, oldest first (readiness: how long the oldest has waited) */
  readonly #open = new Set<Delivery>();
  /** set by a fatal client error: every later write fails at once */
  #fatal: RunnerError | undefined;
  inFlight = 0;
  acknowledged = 0;
  deadLettered = 0;
  /** times a produce found librdkafka's local queue full */
  queueFullWaits = 0;
  lastError: string | undefined;

  /** a sharded runner's instance name, sent as the `runner` header with the full set */
  readonly #runner: string | undefined;

  constructor(c: KafkaConfig, logger: Logger, o: { runner?: string } = {}) {
    this.#runner = o.runner;
    this.#c = c;
    this.#log = logger.child({ component: 'signal-producer' });
    this.name = `kafka:${c.topics.signals}`;
    this.#producer = createNativeProducer(
      {
        ...nativeBaseOptions(c),
        acks: -1,
        'enable.idempotence': true,
        'compression.codec': c.producer.compression,
        'linger.ms': c.producer.lingerMs,
        'message.timeout.ms': c.producer.messageTimeoutMs,
        dr_cb: true,
        ...c.producerOptions,
      },
      logger,
      'signal-producer',
    );
    this.#producer.on('delivery-report', (err, report) => this.#delivered(err, report.opaque as Delivery));
    this.#producer.on('event.error', (err) => {
      if (err.code !== ERR.FATAL && err.isFatal !== true) return;
      // Idempotence broken (or another fatal state): this producer cannot go on, and nothing it holds will be delivered.
      this.#fatal = new RunnerError('SIGNAL_DELIVERY_FAILED', `the signal producer hit a fatal error and cannot go on: ${err.message}`, { cause: err, details: { kafka_code: err.code } });
      this.lastError = err.message;
      this.#log.error({ kafka_code: err.code }, `fatal producer error: ${err.message}; failing every pending write`);
      for (const d of [...this.#open]) this.#fail(d, this.#fatal);
    });
  }

  async connect(): Promise<void> {
    await connectNative(this.#producer, 10_000);
    // 0: delivery reports are polled on librdkafka's own thread and handed to JS as they come (lowest latency);
    // N: polled from the event loop every N ms, in bulk (cheaper per signal, up to N ms later: docs/kafka.md).
    const every = this.#c.producer.deliveryPollMs;
    if (every === 0) this.#producer.setPollInBackground(true);
    else this.#producer.setPollInterval(every);
    this.#connected = true;
  }

  get connected(): boolean {
    return this.#connected;
  }

  write(signals: readonly Signal[]): Promise<void> {
    if (signals.length === 0) return Promise.resolve();
    const topics = new Set<string>();
    const headerSet = this.#c.producer.signalHeaders;
    return this.#send(signals.length, topics, (d) => {
      for (const s of signals) {
        const topic = signalTopic(this.#c, s.broker);
        topics.add(topic);
        this.#produce(topic, Buffer.from(JSON.stringify(s)), String(s.instrument_token), signalHeaders(headerSet, s, this.#runner), d);
      }
    });
  }

  /** Not healthy while a write has waited for its acknowledgement longer than `ms` (the broker is away). */
  healthy(ms = 10_000): boolean {
    const now = performance.now();
    // Set iteration is in insertion order: the oldest write comes first.
    for (const d of this.#open) return now - d.startedAt <= ms;
    return true;
  }

  /** The original bytes and headers, plus where they came from and why they were rejected; resolves on acknowledgement. */
  async deadLetter(d: DeadLetter): Promise<void> {
    const headers = deadLetterHeaders(d);
    const topic = this.#c.topics.deadLetter;
    await this.#send(0, [topic], (delivery) => this.#produce(topic, d.value, d.key, headers, delivery));
    this.deadLettered++;
  }

  /** A write of `signals` signals (0: a dead letter) whose messages `produce` hands over. */
  #send(signals: number, topics: Iterable<string>, produce: (d: Delivery) => void): Promise<void> {
    if (this.#fatal !== undefined) return Promise.reject(this.#fatal);
    return new Promise<void>((resolve, reject) => {
      // `remaining` starts at 1 so that no delivery report settles the write before all its messages are handed over.
      const d: Delivery = { remaining: 1, startedAt: performance.now(), signals, topics, resolve, reject, settled: false };
      this.#open.add(d);
      this.inFlight += signals;
      try {
        produce(d);
      } catch (err) {
        this.#fail(d, this.#deliveryError(err, [...topics]));
        return;
      }
      this.#delivered(null, d);
    });
  }

  /** Hand one message to librdkafka, or queue it behind the ones already waiting for room. */
  #produce(topic: string, value: Buffer | null, key: string | Buffer | null, headers: Headers | undefined, d: Delivery): void {
    d.remaining++;
    if (this.#waiting.length > 0) {
      this.#waiting.push({ topic, value, key, headers, delivery: d });
      return;
    }
    try {
      this.#producer.produce(topic, null, value, key, null, d, headers);
    } catch (err) {
      if (errorCode(err) !== ERR.QUEUE_FULL) {
        d.remaining--;
        throw err;
      }
      this.queueFullWaits++;
      this.#waiting.push({ topic, value, key, headers, delivery: d });
      this.#scheduleRetry();
    }
  }

  /** Produce what waited for room, in order, until the queue is full again. */
  #drainWaiting(): void {
    this.#retryTimer = undefined;
    let i = 0;
    for (; i < this.#waiting.length; i++) {
      const w = this.#waiting[i]!;
      if (w.delivery.settled) continue; // its write already failed
      try {
        this.#producer.produce(w.topic, null, w.value, w.key, null, w.delivery, w.headers);
      } catch (err) {
        if (errorCode(err) === ERR.QUEUE_FULL) break;
        w.delivery.remaining--;
        this.#fail(w.delivery, this.#deliveryError(err, [w.topic]));
      }
    }
    this.#waiting = i === this.#waiting.length ? [] : this.#waiting.slice(i);
    if (this.#waiting.length > 0) this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    // Deliveries free room as they arrive; what waits is tried again every 2 ms until it fits.
    this.#retryTimer ??= setTimeout(() => this.#drainWaiting(), 2);
  }

  #delivered(err: unknown, d: Delivery): void {
    if (d.settled) return;
    if (err) {
      this.#fail(d, this.#deliveryError(err, [...d.topics]));
      return;
    }
    if (--d.remaining > 0) return;
    d.settled = true;
    this.#open.delete(d);
    this.inFlight -= d.signals;
    this.acknowledged += d.signals;
    d.resolve();
  }

  #fail(d: Delivery, err: unknown): void {
    if (d.settled) return;
    d.settled = true;
    this.#open.delete(d);
    this.inFlight -= d.signals;
    this.lastError = (err as Error).message;
    d.reject(err);
  }

  #deliveryError(err: unknown, topics: string[]): RunnerError {
    if (err instanceof RunnerError) return err;
    return new RunnerError('SIGNAL_DELIVERY_FAILED', `signals could not be delivered: ${(err as Error)?.message ?? String(err)}`, {
      cause: err,
      details: { kafka_code: errorCode(err), topics },
    });
  }

  /** Wait until everything handed over is acknowledged (or `timeoutMs` passed: then reject). */
  async flush(timeoutMs = 30_000): Promise<void> {
    if (!this.#connected) return;
    const deadline = Date.now() + timeoutMs;
    while (this.#waiting.length > 0 && Date.now() < deadline) await sleep(5);
    await new Promise<void>((resolve, reject) => this.#producer.flush(Math.max(0, deadline - Date.now()), (err) => (err ? reject(err) : resolve())));
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (!this.#connected) return;
      try {
        await this.flush();
      } catch (err) {
        this.#log.warn({ err }, 'flush before close failed');
      }
      clearTimeout(this.#retryTimer);
      await disconnectNative(this.#producer);
      this.#connected = false;
    })();
    return this.#closing;
  }

  status(): ProducerStatus {
    return {
      connected: this.#connected,
      /** false while a write has waited more than 10 s for its acknowledgement */
      healthy: this.healthy(),
      in_flight_signals: this.inFlight,
      acknowledged_signals: this.acknowledged,
      dead_lettered: this.deadLettered,
      queue_full_waits: this.queueFullWaits,
      last_error: this.lastError ?? null,
    };
  }
}
