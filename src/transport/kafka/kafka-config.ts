import { hostname } from 'node:os';
import { z } from 'zod';

const librdkafkaOptions = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({});

/**
 * The `kafka` section of the service configuration. Any librdkafka option
 * (SASL, TLS, timeouts) goes in `librdkafka` (all clients), `consumerOptions`
 * or `producerOptions`, with librdkafka's own names:
 * `{ "security.protocol": "SASL_SSL", "sasl.mechanisms": "PLAIN", ... }`.
 */
export const KafkaConfigSchema = z
  .object({
    /** host:port list; the KAFKA_BROKERS environment variable (comma-separated) overrides it */
    brokers: z.array(z.string().regex(/^[^\s:]+:\d+$/, 'brokers are host:port')).min(1).default(['127.0.0.1:9092']),
    clientId: z.string().min(1).default('strategy-runner'),
    groupId: z.string().min(1).default('strategy-runner'),
    topics: z
      .object({
        ticks: z.string().min(1).default('market.ticks'),
        fills: z.string().min(1).default('orders.filled'),
        deadLetter: z.string().min(1).default('strategy-runner.dlq'),
        /** signal topic per broker; `{broker}` is replaced by the broker name */
        signals: z.string().includes('{broker}', { message: 'must contain {broker}' }).default('{broker}.signals.raw'),
      })
      .strict()
      .prefault({}),
    consumer: z
      .object({
        /** most messages one consume() of the low-level consumer hands over: one dispatch round at most */
        maxBatchSize: z.number().int().min(1).max(100_000).default(1024),
        /** how long the broker may hold a fetch waiting for data: latency vs. request rate */
        fetchWaitMaxMs: z.number().int().min(0).default(10),
        /** how often delivered offsets are committed */
        commitIntervalMs: z.number().int().min(50).default(1000),
        /** removed: the consumers are on the low-level API, which has no message cache of its own (docs/kafka.md) */
        cacheMs: z
          .never({ error: "kafka.consumer.cacheMs was removed: the consumers now use the client's low-level API, which keeps no message cache of its own; delete the key" })
          .optional(),
        /** librdkafka fetch.queue.backoff.ms: how long the fetcher pauses when its local queue is full (librdkafka's default, 1000, idles it) */
        fetchQueueBackoffMs: z.number().int().min(0).default(10),
        sessionTimeoutMs: z.number().int().min(1000).default(10_000),
        /** tick and fill batches queued between the consumer and the pipeline */
        queueBatches: z.number().int().min(1).default(16),
        /** the whole of orders.filled is read at start to rebuild portfolios; give up waiting after this */
        fillsCatchUpTimeoutMs: z.number().int().min(100).default(60_000),
        /**
         * When a partition is assigned to a process that has not read it yet
         * (a restart), this many ticks before the committed offset are read
         * again so the strategies rebuild their state (their signals are not
         * emitted again). 0 = start cold.
         */
        warmupMessages: z.number().int().min(0).default(10_000),
        /** removed: the warm-up is part of the stream (docs/kafka.md) */
        warmupTimeoutMs: z
          .never({ error: 'kafka.consumer.warmupTimeoutMs was removed: the warm-up is now part of the stream, with no deadline of its own (/readyz says which partitions are still warming up); delete the key' })
          .optional(),
      })
      .strict()
      .prefault({}),
    producer: z
      .object({
        /** time librdkafka waits to fill a batch of signals: latency vs. throughput */
        lingerMs: z.number().min(0).default(2),
        compression: z.enum(['none', 'gzip', 'snappy', 'lz4', 'zstd']).default('lz4'),
        /** 0 = retry delivery forever (the default: nothing is dropped while the broker is away) */
        messageTimeoutMs: z.number().int().min(0).default(0),
        /**
         * the headers of each signal: 'full' (strategy-id, signal-id, strategy-type), 'id' (signal-id only)
         * or 'none' (everything is in the value); headers cost producer time (docs/kafka.md)
         */
        signalHeaders: z.enum(['full', 'id', 'none']).default('full'),
        /**
         * 0: delivery reports reach JS from librdkafka's own thread as they come (lowest latency);
         * N: polled from the event loop every N ms (fewer wake-ups per signal, up to N ms later)
         */
        deliveryPollMs: z.number().int().min(0).max(1000).default(0),
        /** rounds of signals awaiting acknowledgement before the pipeline waits */
        maxPendingRounds: z.number().int().min(1).default(64),
      })
      .strict()
      .prefault({}),
    /**
     * Scale-out (docs/deployment.md, docs/kafka.md "Shards"): the strategies are hashed by id
     * into `count` shards; the runners of one deployment (one `groupId`) share the shards
     * through Kafka's group protocol on the coordination topic (one partition per shard),
     * every runner reads all of market.ticks, and each shard keeps its own position.
     */
    shards: z
      .object({
        /** off: one runner per groupId, reading market.ticks as the group's only member (the layout before scale-out) */
        enabled: z.boolean().default(false),
        /** fixed per deployment: changing it moves every strategy to another shard and starts every shard from the group's old offsets */
        count: z.number().int().min(1).max(1024).default(32),
        /** the coordination topic (created with `count` partitions when missing); default `{groupId}.shards` */
        topic: z.string().min(1).optional(),
        /** how long a runner may be silent before its shards move to the others: false failovers against recovery time */
        sessionTimeoutMs: z.number().int().min(1000).max(300_000).default(10_000),
        /** how long a release waits for the signals of its shard to be acknowledged before committing what is */
        releaseTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
        /** this runner's name in the group (its client id there); default host name and process id */
        instance: z.string().min(1).optional(),
      })
      .strict()
      .prefault({}),
    /**
     * `at-least-once`: a signal is published as soon as its round is computed; after a crash the
     * ticks since the last committed position are processed again and their signals published again
     * (downstream de-duplicates by signal_id). `exactly-once` (needs `shards.enabled`): each shard's
     * signals, its dead letters and its position are committed in one Kafka transaction
     * (docs/kafka.md "Exactly-once"); a `read_committed` consumer sees each signal once.
     */
    delivery: z.enum(['at-least-once', 'exactly-once']).default('at-least-once'),
    /** the transactions of `delivery: exactly-once` */
    transactions: z
      .object({
        /** how often each shard's transaction is committed: signals become visible to read_committed consumers then */
        commitIntervalMs: z.number().int().min(5).max(10_000).default(100),
        /** commit earlier once this many rounds were settled since the last commit */
        maxRounds: z.number().int().min(1).max(100_000).default(100),
        /** a shard with no new signal commits its position only this often (a position alone changes nothing downstream) */
        positionIntervalMs: z.number().int().min(10).max(600_000).default(1000),
        /** librdkafka transaction.timeout.ms: the broker aborts a transaction left open longer (a crashed runner's) */
        timeoutMs: z.number().int().min(1000).max(900_000).default(10_000),
        /** shard transactions committed at once (each holds one of libuv's threads while it waits for the broker) */
        concurrency: z.number().int().min(1).max(16).default(2),
        /** prefix of each shard's transactional.id (`{prefix}.shard-{n}`); default the groupId: one per deployment */
        idPrefix: z.string().min(1).optional(),
        /** signals buffered for transactions not yet committed before the pipeline waits */
        maxBufferedSignals: z.number().int().min(100).default(100_000),
      })
      .strict()
      .prefault({}),
    /** create missing topics at start (development; production topics are created by their owners) */
    createTopics: z
      .object({ enabled: z.boolean().default(false), partitions: z.number().int().min(1).default(6), replicationFactor: z.number().int().min(-1).default(-1) })
      .strict()
      .prefault({}),
    librdkafka: librdkafkaOptions,
    consumerOptions: librdkafkaOptions,
    producerOptions: librdkafkaOptions,
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.delivery === 'exactly-once' && !c.shards.enabled) {
      ctx.addIssue({
        code: 'custom',
        path: ['delivery'],
        message: "exactly-once delivery commits each shard's signals and position in one transaction: it needs kafka.shards.enabled: true (one runner holds every shard by default)",
      });
    }
  });

export type KafkaConfig = z.output<typeof KafkaConfigSchema>;

export function signalTopic(c: KafkaConfig, broker: string): string {
  return c.topics.signals.replaceAll('{broker}', broker);
}

/** The coordination topic of a sharded deployment. */
export function shardsTopic(c: KafkaConfig): string {
  return c.shards.topic ?? `${c.groupId}.shards`;
}

/** The transactional.id of a shard's producer under exactly-once delivery: one per deployment and shard, so a new owner fences the old. */
export function shardTransactionalId(c: KafkaConfig, shard: number): string {
  return `${c.transactions.idPrefix ?? c.groupId}.shard-${shard}`;
}

/** This runner's name in a sharded deployment: kafka.shards.instance, or host name and process id. */
export function shardInstance(c: KafkaConfig): string {
  return c.shards.instance ?? `${hostname()}-${process.pid}`;
}
