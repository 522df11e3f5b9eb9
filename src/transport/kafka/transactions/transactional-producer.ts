import type { Logger } from 'pino';
import type { KafkaConfig } from '../kafka-config.js';
import type { Headers } from '../kafka-signal-sink.js';
import { connectNative, createNativeProducer, disconnectNative, nativeBaseOptions, type NativeConsumer, type NativeProducer } from '../native-client.js';

/** An offset to commit inside a transaction, with its metadata (a shard's position). */
export interface TxnOffset {
  topic: string;
  partition: number;
  offset: number;
  metadata: string;
}

/**
 * Every transactional call gets this budget. librdkafka's own guidance is
 * "the remaining transaction time"; the KafkaJS-compatible layer fixes 5 s,
 * and we keep that bound explicit (docs/kafka.md "Exactly-once"): a call
 * that runs out is classified (txn-error.ts) and retried, aborted or the
 * producer rebuilt, never left hanging.
 */
export const TXN_CALL_TIMEOUT_MS = 5000;

export interface TransactionalProducerOptions {
  config: KafkaConfig;
  logger: Logger;
  transactionalId: string;
}

/**
 * One transactional producer (one transactional.id: a shard's) on the
 * client's low-level API, each call a promise. No delivery reports: a
 * message that cannot be delivered fails the commit, which is where the
 * caller learns of it.
 */
export class TransactionalProducer {
  readonly transactionalId: string;
  readonly #producer: NativeProducer;
  #connected = false;

  constructor(o: TransactionalProducerOptions) {
    const c = o.config;
    this.transactionalId = o.transactionalId;
    this.#producer = createNativeProducer(
      {
        ...nativeBaseOptions(c),
        'transactional.id': o.transactionalId,
        'transaction.timeout.ms': c.transactions.timeoutMs,
        'compression.codec': c.producer.compression,
        'linger.ms': c.producer.lingerMs,
        // A transaction's messages wait in the client until its commit flushes them: room for the largest.
        'queue.buffering.max.messages': Math.max(100_000, c.transactions.maxBufferedSignals * 2),
        // After a commit the broker finishes writing the markers; the next transaction's first request is
        // answered CONCURRENT_TRANSACTIONS until then and retried after this back-off (100 ms by default).
        'retry.backoff.ms': 10,
        ...c.producerOptions,
      },
      o.logger,
      `txn-producer:${o.transactionalId}`,
    );
  }

  /** Connect and initTransactions: fences every earlier producer of this transactional.id and aborts what it left open. */
  async open(timeoutMs = TXN_CALL_TIMEOUT_MS * 2): Promise<void> {
    await connectNative(this.#producer, timeoutMs);
    this.#connected = true;
    await this.#call((cb) => this.#producer.initTransactions(timeoutMs, cb));
  }

  begin(): Promise<void> {
    return this.#call((cb) => this.#producer.beginTransaction(cb));
  }

  /** Hand one message to the open transaction (throws when librdkafka refuses it at once, e.g. its queue is full). */
  produce(topic: string, value: Buffer | null, key: string | Buffer | null, headers: Headers | undefined): void {
    this.#producer.produce(topic, null, value, key, null, undefined, headers);
  }

  /** Commit these offsets of the consumer's group with the transaction (KIP-447: with the consumer's generation). */
  sendOffsets(offsets: TxnOffset[], consumer: NativeConsumer): Promise<void> {
    return this.#call((cb) => this.#producer.sendOffsetsToTransaction(offsets as never, consumer, TXN_CALL_TIMEOUT_MS, cb));
  }

  commit(): Promise<void> {
    return this.#call((cb) => this.#producer.commitTransaction(TXN_CALL_TIMEOUT_MS, cb));
  }

  abort(): Promise<void> {
    return this.#call((cb) => this.#producer.abortTransaction(TXN_CALL_TIMEOUT_MS, cb));
  }

  /** Disconnect (what is still open is aborted by the broker after transaction.timeout.ms, or by the next owner's initTransactions). */
  async close(): Promise<void> {
    if (!this.#connected) return;
    this.#connected = false;
    await disconnectNative(this.#producer);
  }

  #call(f: (cb: (err: unknown) => void) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      try {
        f((err) => (err ? reject(err) : resolve()));
      } catch (err) {
        reject(err);
      }
    });
  }
}
