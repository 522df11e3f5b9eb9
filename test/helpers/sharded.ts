import type { KafkaJS } from '@confluentinc/kafka-javascript';
import { writeFileSync } from 'node:fs';
import { expect } from 'vitest';
import { parseStrategyConfigs, type StrategyConfigInput } from '../../src/config/strategy-config.js';
import { SignalSchema, type Signal } from '../../src/domain/signal.js';
import type { Tick } from '../../src/domain/tick.js';
import type { ServiceConfigInput } from '../../src/config/service-config.js';
import { StrategyRegistry } from '../../src/strategies/registry.js';
import { produce } from './infra.js';
import { retain, type PrivateBroker } from './private-broker.js';
import { referenceSignals } from './reference.js';
import { FIXTURE_MODULES, FIXTURES } from './runtime.js';
import { eventually, serviceConfigInput, spawnRunner, strategyDatabase, testTopics, type TestTopics } from './service.js';
import { randomWalk } from './ticks.js';
import { compareSignals, describeComparison } from './signal-check.js';

export type ShardedRunner = Awaited<ReturnType<typeof spawnRunner>> & { name: string };

/** What a sharded runner's /status says about its shards. */
export interface ShardsDoc {
  instance: string;
  held: number[];
  shards: { shard: number; state: string; lag: number; strategies: string[]; signals: number }[];
  counters: Record<string, number>;
}

/** A sharded runner of the test's deployment (kafka.shards with `count` shards), named `name` in the group. */
export async function spawnShardedRunner(t: TestTopics, databaseUrl: string, name: string, o: { count: number; sessionTimeoutMs?: number; brokers?: string; extra?: ServiceConfigInput } = { count: 8 }): Promise<ShardedRunner> {
  const input = serviceConfigInput(t, databaseUrl, {
    ...o.extra,
    kafka: {
      ...(o.extra?.kafka as object | undefined),
      ...(o.brokers === undefined ? {} : { brokers: [o.brokers] }),
      groupId: t.groupId,
      topics: { ticks: t.ticks, fills: t.fills, deadLetter: t.deadLetter, signals: t.signals },
      consumer: { commitIntervalMs: 200, fetchWaitMaxMs: 20, maxBatchSize: 256 },
      shards: { enabled: true, count: o.count, instance: name, sessionTimeoutMs: o.sessionTimeoutMs ?? 6000, releaseTimeoutMs: 5000 },
    } as never,
  });
  const r = await spawnRunner(input);
  return { ...r, name };
}

export async function shardsOf(r: ShardedRunner): Promise<ShardsDoc | undefined> {
  try {
    const st = (await (await fetch(`http://127.0.0.1:${r.port}/status`)).json()) as { shards?: ShardsDoc };
    return st.shards;
  } catch {
    return undefined;
  }
}

/** A shard ownership change, from a runner's log. */
export interface OwnershipEvent {
  runner: string;
  shard: number;
  kind: 'acquired' | 'released' | 'lost';
  at: number;
}

/** Every shard ownership change in the runners' logs (pino JSON lines: `time` in ms). */
export function ownershipEvents(runners: readonly ShardedRunner[]): OwnershipEvent[] {
  const out: OwnershipEvent[] = [];
  for (const r of runners) {
    for (const line of r.stdout().split('\n')) {
      if (!line.includes('"msg":"shards ')) continue;
      let rec: { msg: string; time: string | number; shards: number[] };
      try {
        rec = JSON.parse(line) as typeof rec;
      } catch {
        continue;
      }
      const kind = rec.msg === 'shards acquired' ? 'acquired' : rec.msg === 'shards released' ? 'released' : rec.msg.startsWith('shards lost') ? 'lost' : undefined;
      if (kind === undefined) continue;
      const at = typeof rec.time === 'number' ? rec.time : Date.parse(rec.time);
      for (const shard of rec.shards) out.push({ runner: r.name, shard, kind, at });
    }
  }
  return out.sort((a, b) => a.at - b.at);
}

/** A signal as read back from its topic: who emitted it and when it was produced. */
export interface EmittedSignal {
  signal: Signal;
  raw: string;
  runner: string | undefined;
  at: number;
}

/**
 * Read a signals topic from the beginning until `done` says enough (or the
 * time runs out); `read_committed` (the default) sees only committed
 * transactions, `read_uncommitted` aborted ones too.
 */
export async function readEmitted(
  kafka: KafkaJS.Kafka,
  topic: string,
  groupId: string,
  done: (got: EmittedSignal[]) => boolean,
  timeoutMs = 60_000,
  isolation: 'read_committed' | 'read_uncommitted' = 'read_committed',
): Promise<EmittedSignal[]> {
  const got: EmittedSignal[] = [];
  const reader = kafka.consumer({ kafkaJS: { groupId, fromBeginning: true, autoCommit: false, readUncommitted: isolation === 'read_uncommitted' } });
  retain(reader);
  await reader.connect();
  await reader.subscribe({ topics: [topic] });
  await reader.run({
    eachMessage: async ({ message }) => {
      const raw = message.value!.toString();
      const runner = message.headers?.['runner'];
      got.push({ signal: SignalSchema.parse(JSON.parse(raw)), raw, runner: runner === undefined ? undefined : String(runner), at: Number(message.timestamp) });
    },
  });
  const t0 = Date.now();
  let quiet = 0;
  let last = -1;
  while (Date.now() - t0 < timeoutMs) {
    await new Promise((r) => setTimeout(r, 250));
    if (got.length === last) quiet++;
    else quiet = 0;
    last = got.length;
    if (done(got) && quiet >= 4) break;
  }
  await reader.disconnect();
  return got;
}

/**
 * Signals emitted for a shard by a runner that no longer held it: after
 * another runner acquired the shard, and before this runner acquired it
 * again.
 */
export function zombieSignals(emitted: readonly EmittedSignal[], events: readonly OwnershipEvent[], shardOf: (strategyId: string) => number): EmittedSignal[] {
  const byShard = new Map<number, OwnershipEvent[]>();
  for (const e of events) if (e.kind === 'acquired') (byShard.get(e.shard) ?? byShard.set(e.shard, []).get(e.shard)!).push(e);
  return emitted.filter((s) => {
    if (s.runner === undefined) return false;
    const acquisitions = byShard.get(shardOf(s.signal.strategy_id)) ?? [];
    // The latest acquisition of the shard by anyone at or before the signal was produced.
    let latest: OwnershipEvent | undefined;
    for (const a of acquisitions) if (a.at <= s.at) latest = a;
    return latest !== undefined && latest.runner !== s.runner;
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const TOKENS = [256265, 260105, 738561, 408065, 341249, 779521];
/** Strategies spread over the shards, several of them spanning instruments in different partitions. */
export function strategyRows(n: number): StrategyConfigInput[] {
  const rows: StrategyConfigInput[] = [];
  for (let i = 0; i < n; i++) {
    const instruments = [TOKENS[i % TOKENS.length]!, TOKENS[(i + 2) % TOKENS.length]!, TOKENS[(i + 3) % TOKENS.length]!];
    rows.push(
      i % 2 === 0
        ? { id: `mom-${i}`, strategy_type: 'SimpleMomentumStrategy', instruments, parameters: { lookback_period: 4 + (i % 5), momentum_threshold: 0.0015 } }
        : { id: `mr-${i}`, strategy_type: 'MeanReversionStrategy', instruments, parameters: { lookback_period: 8 + (i % 7), deviation_threshold: 1.1 } },
    );
  }
  return rows;
}

export async function reference(rows: StrategyConfigInput[], ticks: readonly Tick[]): Promise<Signal[]> {
  return referenceSignals(await StrategyRegistry.create(FIXTURE_MODULES, FIXTURES), parseStrategyConfigs(rows, 'test').configs, ticks);
}

/** Produce the ticks in chunks at a steady pace (keyed by instrument: one instrument, one partition). */
export async function flow(topic: string, ticks: readonly Tick[], chunk: number, pauseMs: number, progress: { sent: number }): Promise<void> {
  for (let i = 0; i < ticks.length; i += chunk) {
    await produce(topic, ticks.slice(i, i + chunk).map((x) => ({ key: String(x.instrument_token), value: x })));
    progress.sent = Math.min(ticks.length, i + chunk);
    await sleep(pauseMs);
  }
}

/** Produce to a private broker (keyed by instrument), through a fresh producer each time. */
export async function produceTo(broker: PrivateBroker, topic: string, ticks: readonly Tick[]): Promise<void> {
  // Idempotent: a send retried across the broker's freeze or restart must not write a tick twice (the reference has it once).
  const producer = broker.kafka().producer({ kafkaJS: { acks: -1, idempotent: true } });
  retain(producer);
  await producer.connect();
  await producer.send({ topic, messages: ticks.map((x) => ({ key: String(x.instrument_token), value: JSON.stringify(x) })) });
  await producer.disconnect();
}

/** How many messages a topic holds (the sum of its partitions' high watermarks; nothing is deleted in a test). */
export async function topicMessages(k: KafkaJS.Kafka, topic: string): Promise<number> {
  const admin = k.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((a, p) => a + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/** A runner's error and warning log lines (librdkafka's connection noise left out), for a failure message. */
export function errorLines(r: ShardedRunner): string {
  return r
    .stdout()
    .split('\n')
    .filter((l) => /"level":"(error|fatal)"/.test(l) && !l.includes('Connect to ipv4'))
    .slice(-20)
    .join('\n');
}

/** Signals as a set of their JSON (for comparing two runs). */
export const asSet = (list: readonly EmittedSignal[]): Set<string> => new Set(list.map((e) => e.raw));

/** Until the runners together hold every one of `shards` shards, each live with no lag. */
export async function allLiveOf(runners: readonly ShardedRunner[], shards: number, timeoutMs = 90_000): Promise<void> {
  await eventually(
    'every shard held once and live, with no lag',
    async () => {
      const docs = await Promise.all(runners.map((r) => shardsOf(r)));
      return docs.flatMap((d) => d?.shards ?? []).map((s) => `${s.shard}:${s.state}:${s.lag}`);
    },
    (list) => list.length === shards && new Set(list.map((x) => x.split(':')[0])).size === shards && list.every((x) => x.endsWith(':live:0')),
    timeoutMs,
  );
}

/** The de-duplicated union of what was emitted against the reference: nothing lost, nothing extra, duplicates identical. */
export function checkUnion(emitted: readonly EmittedSignal[], want: readonly Signal[]): { duplicates: number } {
  const cmp = compareSignals(
    emitted.map((e) => e.signal),
    want,
  );
  // SR_SHARDING_DEBUG=FILE keeps what was emitted and what was wanted, for a failed comparison.
  const debug = process.env['SR_SHARDING_DEBUG'];
  if (debug) writeFileSync(debug, JSON.stringify({ emitted, want }));
  expect(describeComparison(cmp)).toEqual(describeComparison({ missing: [], extra: [], conflicting: [], wrong: [], duplicates: cmp.duplicates }));
  // Duplicates are byte-identical.
  const byId = new Map<string, string>();
  for (const e of emitted) {
    const before = byId.get(e.signal.signal_id);
    if (before !== undefined) expect(e.raw).toBe(before);
    else byId.set(e.signal.signal_id, e.raw);
  }
  return { duplicates: cmp.duplicates };
}


/** A test deployment's topics on a private broker (3 ticks partitions, one for each of the others). */
export async function privateBrokerTopics(broker: PrivateBroker, prefix: string): Promise<TestTopics> {
  const t: TestTopics = {
    ticks: `${prefix}.ticks`,
    fills: `${prefix}.fills`,
    deadLetter: `${prefix}.dlq`,
    signals: `${prefix}.{broker}.signals`,
    signalTopic: (b) => `${prefix}.${b}.signals`,
    groupId: `${prefix}.g`,
  };
  await broker.createTopics([{ topic: t.ticks, partitions: 3 }, ...[t.fills, t.deadLetter, t.signalTopic('paper')].map((topic) => ({ topic, partitions: 1 }))]);
  return t;
}

/** Until the runners together hold all `shards` shards, each at least one. */
export async function untilShared(runners: readonly ShardedRunner[], shards: number, timeoutMs = 60_000): Promise<void> {
  await eventually(`${runners.length} runners share the ${shards} shards`, async () => (await Promise.all(runners.map((r) => shardsOf(r)))).map((d) => d?.held.length ?? 0), (n) => n.reduce((a, b) => a + b, 0) === shards && n.every((x) => x > 0), timeoutMs);
}

/** A test deployment: `strategies` rows in a fresh schema, topics (paper signals), `ticks` random-walk ticks and what replay emits for them. */
export async function scenario(strategies: number, ticks: number, seed: number): Promise<{ rows: StrategyConfigInput[]; t: TestTopics; db: Awaited<ReturnType<typeof strategyDatabase>>; ticks: Tick[]; want: Signal[] }> {
  const rows = strategyRows(strategies);
  const t = await testTopics(['paper'], 3);
  const db = await strategyDatabase(rows);
  const list = randomWalk(TOKENS, ticks, seed);
  return { rows, t, db, ticks: list, want: await reference(rows, list) };
}
