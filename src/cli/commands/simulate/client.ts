import type { KafkaJS } from '@confluentinc/kafka-javascript';
import type { KafkaConfig } from '../../../transport/kafka/kafka-config.js';
import { RunnerError } from '../../../errors.js';
import { kafkaError } from '../../../transport/kafka/client.js';
import { TopicAdmin, type TopicSpec } from '../../../transport/kafka/topic-admin.js';
import type { RandomWalk } from '../../../sim/random-walk.js';

/** A connected producer for synthetic ticks; a broker that does not answer is KAFKA_UNAVAILABLE. */
export async function connectTickProducer(kafka: KafkaJS.Kafka, kc: KafkaConfig): Promise<KafkaJS.Producer> {
  const p = kafka.producer({
    // Idempotent: retries keep the order within a partition (timestamps stay monotonic per instrument).
    kafkaJS: { acks: -1, idempotent: true, compression: kc.producer.compression as KafkaJS.CompressionTypes },
    'linger.ms': Math.max(kc.producer.lingerMs, 5),
    // A broker that stays away fails the run instead of retrying forever.
    'message.timeout.ms': kc.producer.messageTimeoutMs > 0 ? kc.producer.messageTimeoutMs : 30_000,
    ...kc.producerOptions,
  });
  try {
    await p.connect();
  } catch (err) {
    throw kafkaError(err, `cannot connect a producer to ${kc.brokers.join(',')}`);
  }
  return p;
}

/**
 * Sends batches of a random walk's ticks, stamped at send time (never going
 * back per instrument), fired and not awaited one by one: `flush()` awaits
 * them in bulk, `inFlightMessages` bounds them. The first delivery failure
 * is kept and reported through `onFirstError`.
 */
export class TickSender {
  readonly producer: KafkaJS.Producer;
  readonly #topic: string;
  readonly #walk: RandomWalk;
  readonly #onFirstError: () => void;
  readonly #lastTs = new Map<number, number>();
  readonly #inFlight = new Set<Promise<void>>();
  inFlightMessages = 0;
  sent = 0;
  acked = 0;
  failed = 0;
  firstError: unknown;

  constructor(producer: KafkaJS.Producer, topic: string, walk: RandomWalk, onFirstError: () => void) {
    this.producer = producer;
    this.#topic = topic;
    this.#walk = walk;
    this.#onFirstError = onFirstError;
  }

  send(n: number): void {
    const now = Date.now();
    const messages: KafkaJS.Message[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const t = this.#walk.next();
      const ts = Math.max(now, this.#lastTs.get(t.instrument_token) ?? 0);
      this.#lastTs.set(t.instrument_token, ts);
      messages[i] = {
        key: String(t.instrument_token),
        value: JSON.stringify({ instrument_token: t.instrument_token, last_price: t.last_price, timestamp: ts, volume: t.volume }),
      };
    }
    this.sent += n;
    this.inFlightMessages += n;
    const d: Promise<void> = this.producer
      .send({ topic: this.#topic, messages })
      .then(
        () => {
          this.acked += n;
        },
        (err: unknown) => {
          this.failed += n;
          if (this.firstError === undefined) {
            this.firstError = err;
            this.#onFirstError();
          }
        },
      )
      .finally(() => {
        this.inFlightMessages -= n;
        this.#inFlight.delete(d);
      });
    this.#inFlight.add(d);
  }

  /** Every send resolves on the broker's acknowledgement (or fails). */
  async flush(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }
}

/** Fails fast (KAFKA_UNAVAILABLE) when the broker does not answer; checks or creates the topic. */
export async function ensureTopic(
  kafka: KafkaJS.Kafka,
  topic: string,
  brokers: readonly string[],
  create: TopicSpec | undefined,
): Promise<void> {
  const admin = new TopicAdmin(kafka);
  try {
    let missing: string[];
    try {
      missing = await admin.missingTopics([topic], 5000);
    } catch (err) {
      throw kafkaError(err, `no answer from the Kafka brokers ${brokers.join(',')}`);
    }
    if (missing.length === 0) return;
    if (create === undefined) {
      throw new RunnerError('KAFKA_TOPIC_MISSING', `topic ${topic} does not exist on ${brokers.join(',')} (create it, or pass --create-topic)`, {
        details: { topic },
      });
    }
    let created: boolean;
    try {
      // Created meanwhile by someone else: fine.
      created = await admin.createTopics([topic], create, { tolerateRace: true, timeoutMs: 5000 });
    } catch (err) {
      throw kafkaError(err, `cannot create topic ${topic}`);
    }
    if (created) process.stderr.write(`simulate: created topic ${topic} with ${create.partitions} partitions\n`);
  } finally {
    await admin.close().catch(() => {});
  }
}
