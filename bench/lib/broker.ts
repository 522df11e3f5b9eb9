import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KafkaJS } from '@confluentinc/kafka-javascript';

/**
 * The broker for the Kafka benchmarks: the one given (`--brokers` or
 * KAFKA_BROKERS), else a private single-node broker started with
 * scripts/test-env/kafka.sh under its own KAFKA_STATE_FILE (so a broker the
 * tests or a developer run is never touched) and stopped by `stop()`.
 */
export interface BenchBroker {
  brokers: string[];
  /** true when this process started the broker (and `stop()` stops it) */
  started: boolean;
  stop(): void;
}

const HERE = dirname(fileURLToPath(import.meta.url));
/** dist/bench/lib → repository root */
const ROOT = join(HERE, '..', '..', '..');
const KAFKA_SH = join(ROOT, 'scripts', 'test-env', 'kafka.sh');

export function useBroker(given: string | undefined): BenchBroker {
  const list = (given ?? process.env['KAFKA_BROKERS'] ?? '').trim();
  if (list !== '') return { brokers: list.split(',').map((b) => b.trim()).filter(Boolean), started: false, stop: () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'sr-bench-kafka-'));
  const env = { ...process.env, KAFKA_STATE_FILE: join(dir, 'state.env') };
  process.stderr.write('bench: no --brokers/KAFKA_BROKERS: starting a private broker (scripts/test-env/kafka.sh)\n');
  const out = execFileSync('bash', [KAFKA_SH, 'start'], { cwd: ROOT, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const m = /KAFKA_BROKERS=(\S+)/.exec(out);
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    try {
      execFileSync('bash', [KAFKA_SH, 'stop'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  if (m === null) {
    stop();
    throw new Error(`kafka.sh start printed no KAFKA_BROKERS:\n${out}`);
  }
  // A benchmark interrupted with Ctrl-C still stops its broker.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      stop();
      process.exit(130);
    });
  }
  process.once('exit', stop);
  return { brokers: [m[1]!], started: true, stop };
}

/** A fresh name per run: topics and groups are never shared between runs. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export function kafkaClient(brokers: readonly string[], extra: Record<string, unknown> = {}): KafkaJS.Kafka {
  return new KafkaJS.Kafka({ kafkaJS: { brokers: [...brokers], logLevel: KafkaJS.logLevel.ERROR }, ...extra } as never);
}

export async function createTopics(brokers: readonly string[], topics: { topic: string; partitions: number }[]): Promise<void> {
  const admin = kafkaClient(brokers).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: topics.map((t) => ({ topic: t.topic, numPartitions: t.partitions, replicationFactor: 1 })) });
  } finally {
    await admin.disconnect();
  }
}

export async function deleteTopics(brokers: readonly string[], topics: string[]): Promise<void> {
  const admin = kafkaClient(brokers).admin();
  try {
    await admin.connect();
    await admin.deleteTopics({ topics });
  } catch {
    /* best effort: a benchmark's topics are unique anyway */
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** The instrument token of a workload tick line, as the decimal string key (`{"instrument_token":123,...`). */
export function tokenKey(line: string): string {
  const i = line.indexOf(':') + 1;
  return line.slice(i, line.indexOf(',', i));
}

/**
 * Produce the tick lines, keyed by instrument token, and wait for every
 * acknowledgement (fired in chunks, awaited in bulk). Returns the seconds it took.
 */
export async function preload(brokers: readonly string[], topic: string, lines: readonly string[]): Promise<number> {
  const producer = kafkaClient(brokers).producer({ kafkaJS: { acks: -1, compression: KafkaJS.CompressionTypes.None }, 'linger.ms': 20, 'batch.num.messages': 10_000 } as never);
  await producer.connect();
  const t0 = performance.now();
  try {
    const chunk = 5000;
    let window: Promise<unknown>[] = [];
    for (let i = 0; i < lines.length; i += chunk) {
      const messages = [];
      for (let k = i; k < Math.min(lines.length, i + chunk); k++) messages.push({ key: tokenKey(lines[k]!), value: lines[k]! });
      window.push(producer.send({ topic, messages }));
      // librdkafka's queue holds 100,000 messages by default: keep well below it.
      if (window.length >= 10) {
        await Promise.all(window);
        window = [];
      }
    }
    await Promise.all(window);
    await producer.flush({ timeout: 30_000 });
  } finally {
    await producer.disconnect();
  }
  return (performance.now() - t0) / 1000;
}

/** Sum of the high watermarks of a topic (how many messages it holds, from offset 0). */
export async function topicSize(brokers: readonly string[], topic: string): Promise<number> {
  const admin = kafkaClient(brokers).admin();
  await admin.connect();
  try {
    const offs = await admin.fetchTopicOffsets(topic);
    return offs.reduce((s, o) => s + Number(o.high), 0);
  } finally {
    await admin.disconnect();
  }
}
