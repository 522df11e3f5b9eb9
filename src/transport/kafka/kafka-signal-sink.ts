import { KafkaJS } from '@confluentinc/kafka-javascript';
import type { Logger } from 'pino';
import type { Signal } from '../../domain/signal.js';
import { RunnerError } from '../../errors.js';
import type { SignalSink } from '../../ports.js';
import { createKafka, errorCode } from './client.js';
import { signalTopic, type KafkaConfig } from './kafka-config.js';
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
}

/**
 * Publishes signals to `{broker}.signals.raw` (key: instrument token;
 * headers: strategy id, signal id, strategy type) and bad input records to
 * the dead-letter topic. `write()` resolves when the broker has acknowledged
 * every signal (librdkafka delivery reports, acks=all, idempotent producer);
 * it is called without awaiting the previous write, so many rounds are in
 * flight and the produce order is the call order.
 */
export class KafkaSignalSink implements SignalSink {
  readonly name: string;
  readonly #c: KafkaConfig;
  readonly #log: Logger;
  readonly #producer: KafkaJS.Producer;
  #connected = false;
  #closing: Promise<void> | undefined;
  inFlight = 0;
  acknowledged = 0;
  /** write id → start time, for writes not yet acknowledged (readiness) */
  readonly #unacked = new Map<number, number>();
  #writeSeq = 0;
  deadLettered = 0;
  lastError: string | undefined;

  constructor(c: KafkaConfig, logger: Logger) {
    this.#c = c;
    this.#log = logger.child({ component: 'signal-producer' });
    this.name = `kafka:${c.topics.signals}`;
    this.#producer = createKafka(c, logger).producer({
      kafkaJS: { acks: -1, idempotent: true, compression: c.producer.compression as KafkaJS.CompressionTypes },
      'linger.ms': c.producer.lingerMs,
      'message.timeout.ms': c.producer.messageTimeoutMs,
      ...c.producerOptions,
    });
  }

  async connect(): Promise<void> {
    await this.#producer.connect();
    this.#connected = true;
  }

  get connected(): boolean {
    return this.#connected;
  }

  async write(signals: readonly Signal[]): Promise<void> {
    if (signals.length === 0) return;
    const byTopic = new Map<string, KafkaJS.Message[]>();
    for (const s of signals) {
      const topic = signalTopic(this.#c, s.broker);
      let list = byTopic.get(topic);
      if (list === undefined) byTopic.set(topic, (list = []));
      list.push({
        key: String(s.instrument_token),
        value: JSON.stringify(s),
        headers: { 'strategy-id': s.strategy_id, 'signal-id': s.signal_id, 'strategy-type': s.strategy_type },
      });
    }
    this.inFlight += signals.length;
    const id = ++this.#writeSeq;
    this.#unacked.set(id, performance.now());
    try {
      await Promise.all([...byTopic].map(([topic, messages]) => this.#producer.send({ topic, messages })));
      this.acknowledged += signals.length;
    } catch (err) {
      this.lastError = (err as Error).message;
      throw new RunnerError('SIGNAL_DELIVERY_FAILED', `signals could not be delivered: ${(err as Error).message}`, {
        cause: err,
        details: { kafka_code: errorCode(err), topics: [...byTopic.keys()] },
      });
    } finally {
      this.inFlight -= signals.length;
      this.#unacked.delete(id);
    }
  }

  /** Not healthy while a write has waited for its acknowledgement longer than `ms` (the broker is away). */
  healthy(ms = 10_000): boolean {
    const now = performance.now();
    // Map iteration is in insertion order: the oldest write comes first.
    for (const t of this.#unacked.values()) return now - t <= ms;
    return true;
  }

  /** The original bytes and headers, plus where they came from and why they were rejected. */
  async deadLetter(d: DeadLetter): Promise<void> {
    await this.#producer.send({
      topic: this.#c.topics.deadLetter,
      messages: [
        {
          key: d.key,
          value: d.value,
          headers: {
            'x-dlq-reason': d.reason,
            'x-dlq-error-code': d.code,
            'x-dlq-source-topic': d.topic,
            'x-dlq-source-partition': String(d.partition),
            'x-dlq-source-offset': d.offset,
            'x-dlq-at': new Date().toISOString(),
          },
        },
      ],
    });
    this.deadLettered++;
  }

  async flush(): Promise<void> {
    if (this.#connected) await this.#producer.flush({ timeout: 30_000 });
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (!this.#connected) return;
      try {
        await this.flush();
      } catch (err) {
        this.#log.warn({ err }, 'flush before close failed');
      }
      await this.#producer.disconnect();
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
      last_error: this.lastError ?? null,
    };
  }
}
