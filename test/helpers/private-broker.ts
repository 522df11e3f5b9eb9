import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { onTestFinished } from 'vitest';
import { consumedOf, type Consumed } from './infra.js';

const KAFKA_SH = fileURLToPath(new URL('../../scripts/test-env/kafka.sh', import.meta.url));

/** Clients made against private brokers, kept reachable until the process ends (a collected client can crash the native binding). */
const keep: unknown[] = [];

/**
 * A single-node broker of this test's own (scripts/test-env/kafka.sh with its
 * own state file), so that taking it away, freezing it or starting it fresh
 * disturbs no other test. Stopped when the test finishes.
 */
export class PrivateBroker {
  readonly #env: NodeJS.ProcessEnv;
  brokers = '';

  constructor() {
    const stateDir = mkdtempSync(join(tmpdir(), 'sr-kafka-'));
    this.#env = { ...process.env, KAFKA_STATE_FILE: join(stateDir, 'state.env') };
  }

  /** Start a fresh broker (new cluster, empty logs); stopped when the test finishes. */
  static async start(): Promise<PrivateBroker> {
    const b = new PrivateBroker();
    b.brokers = /KAFKA_BROKERS=(\S+)/.exec(b.#sh('start'))![1]!;
    onTestFinished(() => b.stop());
    return b;
  }

  /** Run a kafka.sh command; when it fails, the error carries what the script said (why a restart failed). */
  #sh(cmd: string): string {
    try {
      return execFileSync('bash', [KAFKA_SH, cmd], { env: this.#env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      const e = err as Error & { stderr?: string };
      throw new Error(`kafka.sh ${cmd} failed: ${(e.stderr ?? '').trim().split('\n').slice(-15).join('\n') || e.message}`, { cause: err });
    }
  }

  /** Kill the broker process (data and ports kept). */
  pause(): void {
    this.#sh('pause');
  }

  /** Start it again after pause(), on the same address and data. */
  resume(): void {
    this.#sh('resume');
  }

  /** SIGSTOP: sockets stay open, nothing answers. */
  freeze(): void {
    this.#sh('freeze');
  }

  thaw(): void {
    this.#sh('thaw');
  }

  stop(): void {
    this.#sh('stop');
  }

  /** A client of this broker (kept reachable for the life of the process). */
  kafka(): KafkaJS.Kafka {
    const k = new KafkaJS.Kafka({ kafkaJS: { brokers: [this.brokers], logLevel: KafkaJS.logLevel.NOTHING } });
    keep.push(k);
    return k;
  }

  /**
   * Every message of a topic, from the beginning to the end each partition
   * has now (read with a consumer of a new group that never commits).
   */
  async readAll(topic: string, timeoutMs = 60_000): Promise<Consumed[]> {
    const admin = this.kafka().admin();
    retain(admin);
    await admin.connect();
    const ends = new Map((await admin.fetchTopicOffsets(topic)).map((e) => [e.partition, Number(e.high)]));
    await admin.disconnect();
    const out: Consumed[] = [];
    const total = [...ends.values()].reduce((a, b) => a + b, 0);
    if (total === 0) return out;
    const consumer = this.kafka().consumer({ kafkaJS: { groupId: `reader-${Date.now()}-${Math.random()}`, fromBeginning: true, autoCommit: false }, 'fetch.wait.max.ms': 20 });
    retain(consumer);
    await consumer.connect();
    await consumer.subscribe({ topics: [topic] });
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    await consumer.run({
      eachMessage: async ({ message, partition }) => {
        if (Number(message.offset) < (ends.get(partition) ?? 0)) out.push(consumedOf(message, partition));
        if (out.length >= total) done();
      },
    });
    const timer = setTimeout(done, timeoutMs);
    await finished;
    clearTimeout(timer);
    await consumer.disconnect();
    if (out.length < total) throw new Error(`read ${out.length} of ${total} messages of ${topic} within ${timeoutMs} ms`);
    return out;
  }

  async createTopics(topics: { topic: string; partitions: number }[]): Promise<void> {
    const admin = this.kafka().admin();
    keep.push(admin);
    await admin.connect();
    await admin.createTopics({ topics: topics.map((t) => ({ topic: t.topic, numPartitions: t.partitions, replicationFactor: 1 })) });
    await admin.disconnect();
  }
}

/** Keep a client reachable for the life of the process. */
export function retain(client: unknown): void {
  keep.push(client);
}
