import type { KafkaJS } from '@confluentinc/kafka-javascript';
import type { PartitionId } from './partition-key.js';

/** How a created topic is laid out. */
export interface TopicSpec {
  partitions: number;
  /** -1 = the broker's default */
  replicationFactor: number;
}

/** The low and high watermarks of one partition (the high one is the next offset to be written). */
export interface PartitionWatermarks extends PartitionId {
  low: number;
  high: number;
}

/**
 * Topic existence, creation and watermarks through one admin client,
 * connected at the first call and shared by the input's start-up checks, its
 * catch-up and its lag refresh (and usable by `simulate`).
 *
 * Only calls checked safe are here (docs/kafka.md, "Admin calls"): Metadata,
 * CreateTopics, ListOffsets. Never `fetchOffsets` (OffsetFetch from an admin
 * handle can crash the process); a group's committed offsets are read through
 * a consumer's `committed()`. Errors come out as the client raised them: the
 * caller says what failed (`kafkaError(err, what)`).
 */
export class TopicAdmin {
  readonly #kafka: KafkaJS.Kafka;
  #admin: Promise<KafkaJS.Admin> | undefined;

  constructor(kafka: KafkaJS.Kafka) {
    this.#kafka = kafka;
  }

  /** The connected admin client (a failed connect is tried again at the next call). */
  #client(): Promise<KafkaJS.Admin> {
    this.#admin ??= (async () => {
      const admin = this.#kafka.admin();
      try {
        await admin.connect();
        return admin;
      } catch (err) {
        this.#admin = undefined;
        throw err;
      }
    })();
    return this.#admin;
  }

  /** The topics on the broker. */
  async listTopics(timeoutMs?: number): Promise<string[]> {
    const admin = await this.#client();
    return timeoutMs === undefined ? admin.listTopics() : admin.listTopics({ timeout: timeoutMs });
  }

  /** Those of `topics` the broker does not have (each once, in the order given). */
  async missingTopics(topics: readonly string[], timeoutMs?: number): Promise<string[]> {
    const existing = new Set(await this.listTopics(timeoutMs));
    return [...new Set(topics)].filter((t) => !existing.has(t));
  }

  /**
   * Create `topics`: true when this call created them all, false when one
   * existed already (the client's answer). With `tolerateRace`, a create that
   * fails while every one of them exists by then (someone else created them
   * meanwhile, a timed-out request that went through) resolves to false too.
   */
  async createTopics(topics: readonly string[], spec: TopicSpec, o: { tolerateRace?: boolean; timeoutMs?: number } = {}): Promise<boolean> {
    const admin = await this.#client();
    try {
      return await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: spec.partitions, replicationFactor: spec.replicationFactor })) });
    } catch (err) {
      if (o.tolerateRace !== true) throw err;
      const missing = await this.missingTopics(topics, o.timeoutMs ?? 5000).catch(() => topics);
      if (missing.length > 0) throw err;
      return false;
    }
  }

  /** Every partition's watermarks. */
  async watermarks(topic: string, timeoutMs = 5000): Promise<PartitionWatermarks[]> {
    const admin = await this.#client();
    const list = await admin.fetchTopicOffsets(topic, { timeout: timeoutMs } as never);
    return list.map((e) => ({ topic, partition: e.partition, low: Number(e.low), high: Number(e.high) }));
  }

  /** Disconnect the admin client if one was connected. */
  async close(): Promise<void> {
    const admin = this.#admin;
    this.#admin = undefined;
    if (admin === undefined) return;
    let connected: KafkaJS.Admin;
    try {
      connected = await admin;
    } catch {
      return; // it never connected
    }
    await connected.disconnect();
  }
}
