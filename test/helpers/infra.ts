import { randomUUID } from 'node:crypto';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import postgres, { type Sql } from 'postgres';
import { onTestFinished } from 'vitest';

/** The broker the test set-up started (or was given). */
export function kafkaBrokers(): string[] {
  const b = process.env['TEST_KAFKA_BROKERS'];
  if (!b) throw new Error('TEST_KAFKA_BROKERS is not set: run the tests through vitest (test/global-setup.ts), not with TEST_INFRA=0');
  return b.split(',');
}

export function databaseUrl(): string {
  const u = process.env['TEST_DATABASE_URL'];
  if (!u) throw new Error('TEST_DATABASE_URL is not set: run the tests through vitest (test/global-setup.ts), not with TEST_INFRA=0');
  return u;
}

/** A short unique suffix for topic, group and schema names, so tests never share state. */
export function unique(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export function kafka(): KafkaJS.Kafka {
  return new KafkaJS.Kafka({ kafkaJS: { brokers: kafkaBrokers(), logLevel: KafkaJS.logLevel.NOTHING } });
}

/** Create topics (deleted when the test finishes). */
export async function createTopics(topics: string[], partitions = 1): Promise<void> {
  const admin = kafka().admin();
  await admin.connect();
  await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })) });
  await admin.disconnect();
  onTestFinished(async () => {
    const a = kafka().admin();
    await a.connect();
    await a.deleteTopics({ topics }).catch(() => {});
    await a.disconnect();
  });
}

/** Produce JSON (or raw string) values with keys; resolves when acknowledged. */
export async function produce(topic: string, messages: { key?: string; value: unknown; headers?: Record<string, string> }[]): Promise<void> {
  // Idempotent: a send retried after a time-out (a loaded host, a broker just back) must not write a tick twice.
  const producer = kafka().producer({ kafkaJS: { acks: -1, idempotent: true }, 'linger.ms': 5 });
  await producer.connect();
  const chunk = 1000;
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < messages.length; i += chunk) {
    sends.push(
      producer.send({
        topic,
        messages: messages.slice(i, i + chunk).map((m) => ({
          key: m.key ?? null,
          value: typeof m.value === 'string' ? m.value : JSON.stringify(m.value),
          ...(m.headers ? { headers: m.headers } : {}),
        })),
      }),
    );
  }
  await Promise.all(sends);
  await producer.disconnect();
}

export interface Consumed {
  key: string | null;
  value: string;
  headers: Record<string, string>;
  partition: number;
  offset: string;
}

/** A consumed message as text, headers flattened to their first value. */
export function consumedOf(message: KafkaJS.KafkaMessage, partition: number): Consumed {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = Array.isArray(v) ? String(v[0]) : String(v);
  return { key: message.key?.toString() ?? null, value: message.value?.toString() ?? '', headers, partition, offset: message.offset };
}

/**
 * Read a topic from the beginning until `until(messages)` holds or the
 * deadline passes; returns what was read.
 */
export async function consumeUntil(topic: string, until: (m: Consumed[]) => boolean, timeoutMs = 30_000): Promise<Consumed[]> {
  const consumer = kafka().consumer({ kafkaJS: { groupId: unique('test-reader'), fromBeginning: true, autoCommit: false }, 'fetch.wait.max.ms': 20 });
  const out: Consumed[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic] });
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  await consumer.run({
    eachMessage: async ({ message, partition }) => {
      out.push(consumedOf(message, partition));
      if (until(out)) done();
    },
  });
  const timer = setTimeout(done, timeoutMs);
  if (until(out)) done();
  await finished;
  clearTimeout(timer);
  await consumer.disconnect();
  return out;
}

/** A connection to the test database, closed when the test finishes. */
export function testSql(): Sql {
  const sql = postgres(databaseUrl(), { max: 2, onnotice: () => {} });
  onTestFinished(() => sql.end({ timeout: 5 }));
  return sql;
}

/** A fresh schema in the test database and a URL whose search_path points at it. */
export async function freshSchema(): Promise<{ url: string; schema: string; sql: Sql }> {
  const schema = unique('t').replace('-', '_');
  const admin = postgres(databaseUrl(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const u = new URL(databaseUrl());
  u.searchParams.set('options', `-c search_path=${schema}`);
  const url = u.toString();
  const sql = postgres(url, { max: 2, onnotice: () => {} });
  onTestFinished(async () => {
    await sql.end({ timeout: 5 });
    const a = postgres(databaseUrl(), { max: 1, onnotice: () => {} });
    await a.unsafe(`DROP SCHEMA ${schema} CASCADE`);
    await a.end();
  });
  return { url, schema, sql };
}
