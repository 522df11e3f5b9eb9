import { resolve } from 'node:path';
import type { KafkaJS } from '@confluentinc/kafka-javascript';
import type { Logger } from 'pino';
import { StrategyConfigLoading } from '../../../app/strategy-config-loading.js';
import type { ServiceConfig } from '../../../config/service-config.js';
import { RunnerError } from '../../../errors.js';
import { sleep, TIMED_OUT, within } from '../../../timing/sleep.js';
import { createKafka, errorCode, kafkaError } from '../../../transport/kafka/client.js';
import { inputConsumerOptions } from '../../../transport/kafka/consumer-options.js';
import { shardsTopic } from '../../../transport/kafka/kafka-config.js';
import { connectNative, createNativeConsumer, disconnectNative, type NativeConsumer } from '../../../transport/kafka/native-client.js';
import { TopicAdmin } from '../../../transport/kafka/topic-admin.js';
import { postgresError, redactUrl } from '../../../transport/postgres/connect.js';
import type { GroupSnapshot, RawMember } from './group-model.js';

/** DescribeGroups' group states (librdkafka's rd_kafka_consumer_group_state_t), by Kafka's own names. */
const GROUP_STATES = ['Unknown', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead', 'Empty'] as const;

/** Group errors that a fresh broker or a moving coordinator answers for a moment: asked again until the time is up. */
const COORDINATOR_BUSY: ReadonlySet<number> = new Set([14 /* COORDINATOR_LOAD_IN_PROGRESS */, 15 /* COORDINATOR_NOT_AVAILABLE */, 16 /* NOT_COORDINATOR */]);
/** The group does not exist (the new consumer protocol's DescribeGroups answer): no runner, nothing committed. */
const GROUP_ID_NOT_FOUND = 69;

export interface GroupReaderOptions {
  config: ServiceConfig;
  logger: Logger;
  /** each request to Kafka (and the connects) gives up after this */
  timeoutMs: number;
}

/**
 * What `status --group` reads, through clients opened once (a --watch reads
 * again with the same ones):
 *  - the topics (Metadata) and the watermarks of the coordination topic and
 *    market.ticks (ListOffsets), through TopicAdmin;
 *  - the coordination group's members and assignments: the admin's
 *    `describeGroups` (DescribeGroups: an admin request to the group's
 *    coordinator that never reaches a consumer-group object, unlike
 *    `fetchOffsets`, which must not be used: docs/kafka.md "Admin calls");
 *  - the group's committed offsets and their metadata (the shards'
 *    positions) and its offsets of market.ticks: `committed()` of a
 *    low-level consumer of the group that never subscribes, so it never
 *    joins the group and moves no shard;
 *  - the strategy configurations, read once per read from the configured
 *    source (PostgreSQL or the strategies file), no cache file written, no
 *    watching.
 */
export class GroupReader {
  readonly #c: ServiceConfig;
  readonly #log: Logger;
  readonly #timeoutMs: number;
  readonly #kafka: KafkaJS.Kafka;
  readonly #topics: TopicAdmin;
  readonly #coordinationTopic: string;
  #admin: KafkaJS.Admin | undefined;
  #consumer: NativeConsumer | undefined;
  #loading: StrategyConfigLoading | undefined;
  #closing: Promise<void> | undefined;

  constructor(o: GroupReaderOptions) {
    this.#c = o.config;
    this.#log = o.logger;
    this.#timeoutMs = o.timeoutMs;
    this.#kafka = createKafka(o.config.kafka, o.logger);
    this.#topics = new TopicAdmin(this.#kafka);
    this.#coordinationTopic = shardsTopic(o.config.kafka);
  }

  /** One read of the whole deployment. Kafka failures reject (KAFKA_UNAVAILABLE, saying what and where); a strategy source that fails is in the snapshot. */
  async read(): Promise<GroupSnapshot> {
    const strategies = this.#readStrategies();
    const kafka = await this.#readKafka().then(
      (v) => ({ ok: true as const, v }),
      (err: unknown) => ({ ok: false as const, err }),
    );
    const st = await strategies;
    if (!kafka.ok) throw kafka.err;
    return { ...kafka.v, strategies: st, readAt: new Date() };
  }

  async #readKafka(): Promise<Omit<GroupSnapshot, 'strategies' | 'readAt'>> {
    const k = this.#c.kafka;
    const brokers = k.brokers.join(',');
    const seconds = `${this.#timeoutMs / 1000} s`;
    const ticksTopic = k.topics.ticks;
    const coord = this.#coordinationTopic;
    let missing: string[];
    try {
      missing = await this.#topics.missingTopics([coord, ticksTopic], this.#timeoutMs);
    } catch (err) {
      throw kafkaError(err, `no answer from the Kafka brokers ${brokers} within ${seconds} (listing topics)`);
    }
    const [coordMarks, ticksMarks, description] = await Promise.all([
      missing.includes(coord) ? null : this.#topics.watermarks(coord, this.#timeoutMs).catch((err: unknown) => Promise.reject(kafkaError(err, `reading the partitions of ${coord} from ${brokers}`))),
      missing.includes(ticksTopic) ? null : this.#topics.watermarks(ticksTopic, this.#timeoutMs).catch((err: unknown) => Promise.reject(kafkaError(err, `reading the watermarks of ${ticksTopic} from ${brokers}`))),
      this.#describe(),
    ]);
    const shardParts = coordMarks === null ? [] : [...Array(Math.min(coordMarks.length, k.shards.count)).keys()];
    const ticksParts = (ticksMarks ?? []).map((m) => m.partition);
    const committed = await this.#committed([...shardParts.map((partition) => ({ topic: coord, partition })), ...ticksParts.map((partition) => ({ topic: ticksTopic, partition }))]);
    const groupTicksOffsets = new Map<number, number>();
    const shardCommits: GroupSnapshot['committed'][number][] = [];
    for (const c of committed) {
      if (c.topic === ticksTopic) {
        if (typeof c.offset === 'number' && c.offset >= 0) groupTicksOffsets.set(c.partition, c.offset);
      } else {
        shardCommits.push({ partition: c.partition, offset: typeof c.offset === 'number' ? c.offset : -1, metadata: typeof c.metadata === 'string' ? c.metadata : null });
      }
    }
    return {
      group: k.groupId,
      coordinationTopic: coord,
      ticksTopic,
      shardCount: k.shards.count,
      clientIdPrefix: `${k.clientId}/`,
      ...description,
      coordinationPartitions: coordMarks === null ? null : coordMarks.length,
      committed: shardCommits,
      groupTicksOffsets,
      ticks: ticksMarks === null ? null : ticksMarks.map((m) => ({ partition: m.partition, low: m.low, high: m.high })),
    };
  }

  /** The group's state, assignor, coordinator and members (none when the group does not exist). */
  async #describe(): Promise<Pick<GroupSnapshot, 'state' | 'assignor' | 'coordinator' | 'members'>> {
    const group = this.#c.kafka.groupId;
    const where = `describing the group ${group} on ${this.#c.kafka.brokers.join(',')}`;
    const admin = await this.#adminClient(where);
    const deadline = Date.now() + this.#timeoutMs;
    for (;;) {
      let d: KafkaJS.GroupDescriptions['groups'][number] | undefined;
      try {
        d = (await admin.describeGroups([group], { timeout: this.#timeoutMs })).groups.find((g) => g.groupId === group);
      } catch (err) {
        throw kafkaError(err, where);
      }
      if (d === undefined) return { state: 'Dead', assignor: '', coordinator: null, members: [] };
      if (d.error !== undefined && d.error !== null) {
        const code = errorCode(d.error);
        if (code === GROUP_ID_NOT_FOUND) return { state: 'Dead', assignor: '', coordinator: null, members: [] };
        if (typeof code === 'number' && COORDINATOR_BUSY.has(code) && Date.now() < deadline) {
          await sleep(250);
          continue;
        }
        throw kafkaError(d.error, where);
      }
      const c = d.coordinator as KafkaJS.Node | undefined | null;
      return {
        state: GROUP_STATES[d.state as number] ?? `state ${String(d.state)}`,
        assignor: d.partitionAssignor ?? d.protocol ?? '',
        coordinator: c === undefined || c === null ? null : `${c.host}:${c.port} (id ${c.id})`,
        members: (d.members ?? []).map(
          (m): RawMember => ({
            memberId: m.memberId,
            clientId: m.clientId,
            clientHost: m.clientHost,
            groupInstanceId: m.groupInstanceId,
            // The decoded assignment (memberAssignment, the raw bytes, is always null in this client).
            partitions: (m.assignment?.topicPartitions ?? []).map((p) => ({ topic: p.topic, partition: p.partition })),
          }),
        ),
      };
    }
  }

  async #adminClient(where: string): Promise<KafkaJS.Admin> {
    if (this.#admin !== undefined) return this.#admin;
    const admin = this.#kafka.admin();
    try {
      await admin.connect();
    } catch (err) {
      throw kafkaError(err, where);
    }
    this.#admin = admin;
    return admin;
  }

  /** The group's committed offsets (and metadata) of these partitions, through a consumer of the group that never subscribes. */
  async #committed(parts: { topic: string; partition: number }[]): Promise<{ topic: string; partition: number; offset?: number; metadata?: string | null }[]> {
    if (parts.length === 0) return [];
    const k = this.#c.kafka;
    const where = `reading the committed offsets of the group ${k.groupId} (the shards' positions) from ${k.brokers.join(',')}`;
    const consumer = await this.#offsetsConsumer(where);
    let list: { topic: string; partition: number; offset?: number; metadata?: string | null; error?: unknown }[];
    try {
      list = await new Promise((resolve, reject) =>
        consumer.committed(parts, this.#timeoutMs, (err, l) => (err ? reject(err) : resolve(l as unknown as typeof list))),
      );
    } catch (err) {
      throw kafkaError(err, where);
    }
    const failed = list.find((c) => c.error !== undefined && c.error !== null);
    if (failed !== undefined) throw kafkaError(failed.error, `${where}: ${failed.topic}[${failed.partition}]`);
    return list;
  }

  async #offsetsConsumer(where: string): Promise<NativeConsumer> {
    if (this.#consumer !== undefined) return this.#consumer;
    const k = this.#c.kafka;
    const { options, topicOptions } = inputConsumerOptions(k, k.groupId);
    // Never subscribed: it never joins the group (no rebalance, no member), and commits nothing (auto-commit off).
    const consumer = createNativeConsumer({ ...options, 'client.id': `${k.clientId}-status` }, topicOptions, { rebalance: () => {} }, this.#log, 'status-group');
    try {
      await connectNative(consumer, this.#timeoutMs);
    } catch (err) {
      await disconnectNative(consumer);
      throw kafkaError(err, where);
    }
    this.#consumer = consumer;
    return consumer;
  }

  /** The configured source's configurations (active or not), or the sentence that says why not. Never rejects. */
  async #readStrategies(): Promise<GroupSnapshot['strategies']> {
    const c = this.#c;
    const source = c.strategies.source === 'file' ? `the strategies file ${resolve(c.baseDir, c.strategies.file!)}` : `PostgreSQL ${c.postgres.url === null ? '(no URL)' : redactUrl(c.postgres.url)}`;
    try {
      this.#loading ??= new StrategyConfigLoading({ config: c, logger: this.#log, signal: new AbortController().signal, waitingFor: () => {} });
      // The source itself: `load()` would also write the cache file.
      const parsed = await this.#loading.source.load();
      return { source, configs: parsed.configs.map((x) => ({ id: x.id, is_active: x.is_active })), invalid: parsed.errors.length };
    } catch (err) {
      const e = err instanceof RunnerError ? err : postgresError(err, `reading strategy configurations from ${source}`);
      return { source, error: `[${e.code}] ${e.message.replace(/\s*\n\s*/g, ' ')}` };
    }
  }

  /** Close every client (once; a second call gets the same promise). Each step runs even if one before it fails. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const steps: Promise<unknown>[] = [
        this.#consumer === undefined ? Promise.resolve() : disconnectNative(this.#consumer),
        this.#admin === undefined ? Promise.resolve() : this.#admin.disconnect(),
        this.#topics.close(),
        this.#loading?.source.close() ?? Promise.resolve(),
        this.#loading?.close(2) ?? Promise.resolve(),
      ].map((p) => p.catch((err: unknown) => this.#log.debug({ err }, 'closing a client of status --group failed')));
      const r = await within(Promise.all(steps), 15_000);
      if (r === TIMED_OUT) this.#log.warn('a client of status --group did not close within 15 s');
    })();
    return this.#closing;
  }
}
