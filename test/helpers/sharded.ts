import type { KafkaJS } from '@confluentinc/kafka-javascript';
import { SignalSchema, type Signal } from '../../src/domain/signal.js';
import type { ServiceConfigInput } from '../../src/config/service-config.js';
import { retain } from './private-broker.js';
import { serviceConfigInput, spawnRunner, type TestTopics } from './service.js';

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

/** Read a signals topic from the beginning until `done` says enough (or the time runs out). */
export async function readEmitted(kafka: KafkaJS.Kafka, topic: string, groupId: string, done: (got: EmittedSignal[]) => boolean, timeoutMs = 60_000): Promise<EmittedSignal[]> {
  const got: EmittedSignal[] = [];
  const reader = kafka.consumer({ kafkaJS: { groupId, fromBeginning: true, autoCommit: false } });
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
