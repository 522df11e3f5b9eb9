/**
 * A sharded deployment for the scale-out benchmark: runner processes of one
 * `kafka.groupId` sharing `shards` shards, and what the benchmark asks of
 * them through their /status: is every shard held by exactly one of them,
 * live, near the head of the stream, and are the shards spread evenly.
 */
import type { ServiceConfigInput } from '../../src/config/service-config.js';
import { kafkaClient } from './broker.js';
import { RunnerProcess, type RunnerStatus } from './scale-out-runner.js';

export interface DeploymentTopics {
  ticks: string;
  fills: string;
  deadLetter: string;
  /** with `{broker}` */
  signals: string;
}

export interface DeploymentOptions {
  brokers: string[];
  topics: DeploymentTopics;
  groupId: string;
  shards: number;
  sessionTimeoutMs: number;
  /** absolute paths of the strategy modules */
  modules: string[];
  /** the strategies file (absolute) */
  strategiesFile: string;
  pool: number;
  /** the directory for the runners' configuration and log files */
  dir: string;
  /** kafka.consumer.warmupMessages (the runner's default, 10,000, when omitted) */
  warmupMessages?: number;
  /** supervision.overload.policy (the runner's default, conflate, when omitted) */
  overloadPolicy?: 'conflate' | 'hold';
}

/** The runner configuration: strategies from the file, status on a free port, info logs as JSON (ownership changes are read from them). */
export function runnerConfig(o: DeploymentOptions, instance: string): ServiceConfigInput {
  return {
    strategyModules: o.modules,
    strategies: { source: 'file', file: o.strategiesFile, watch: false },
    pool: { size: o.pool },
    status: { port: 0 },
    log: { level: 'info', format: 'json' },
    // Heavy strategies on 2 busy cores: a thread is not declared hung for being slow.
    supervision: { hangTimeoutMs: 60_000, ...(o.overloadPolicy === undefined ? {} : { overload: { policy: o.overloadPolicy } }) },
    kafka: {
      brokers: o.brokers,
      clientId: 'bench-scale-out',
      groupId: o.groupId,
      topics: { ticks: o.topics.ticks, fills: o.topics.fills, deadLetter: o.topics.deadLetter, signals: o.topics.signals },
      ...(o.warmupMessages === undefined ? {} : { consumer: { warmupMessages: o.warmupMessages } }),
      shards: { enabled: true, count: o.shards, instance, sessionTimeoutMs: o.sessionTimeoutMs, releaseTimeoutMs: 5000 },
    },
  };
}

export class Deployment {
  readonly o: DeploymentOptions;
  /** every runner started, in order (the dead ones too) */
  readonly all: RunnerProcess[] = [];
  #next = 1;

  constructor(o: DeploymentOptions) {
    this.o = o;
  }

  get alive(): RunnerProcess[] {
    return this.all.filter((r) => r.alive);
  }

  /** Start a runner (resolves once its status server listens). */
  async spawn(): Promise<RunnerProcess> {
    const name = `${this.o.groupId.slice(-8)}-r${this.#next++}`;
    const r = await RunnerProcess.start(name, runnerConfig(this.o, name), this.o.dir);
    this.all.push(r);
    return r;
  }

  /** Error and fatal lines of every runner's log. */
  errors(): string[] {
    return this.all.flatMap((r) => [...r.problems()]);
  }

  /** SIGTERM every runner still alive (SIGKILL after the grace), and wait for them. */
  async stop(): Promise<void> {
    await Promise.all(this.all.map((r) => r.stop()));
  }
}

/** Whether these runners, as their /status documents say, hold every shard once, live, near the head, evenly spread. */
export function assess(docs: readonly (RunnerStatus | undefined)[], shards: number, maxLag: number): { ok: boolean; why: string; held: number[] } {
  const held = docs.map((d) => d?.shards?.held.length ?? 0);
  const silent = docs.findIndex((d) => d?.shards === undefined);
  if (silent >= 0) return { ok: false, why: `runner ${silent + 1} did not answer`, held };
  const owners = new Map<number, number>();
  for (const d of docs) for (const s of d!.shards!.shards) owners.set(s.shard, (owners.get(s.shard) ?? 0) + 1);
  const missing = [...Array(shards).keys()].filter((s) => !owners.has(s));
  if (missing.length > 0) return { ok: false, why: `shards held by no one: ${missing.join(',')}`, held };
  const twice = [...owners].filter(([, n]) => n > 1).map(([s]) => s);
  if (twice.length > 0) return { ok: false, why: `shards held twice: ${twice.join(',')}`, held };
  const notLive = docs.flatMap((d) => d!.shards!.shards.filter((s) => s.state !== 'live' || s.lag > maxLag).map((s) => `${s.shard}:${s.state}:${s.lag}`));
  if (notLive.length > 0) return { ok: false, why: `not live or lagging: ${notLive.slice(0, 8).join(' ')}${notLive.length > 8 ? ' …' : ''}`, held };
  if (Math.max(...held) - Math.min(...held) > 1) return { ok: false, why: `uneven: ${held.join('/')}`, held };
  return { ok: true, why: '', held };
}

export interface Converged {
  /** epoch ms of the first poll of the stretch that stayed converged for settleMs */
  at: number;
  held: number[];
  polls: number;
}

/**
 * Poll the runners' /status every `pollMs` until they stay converged
 * (`assess`) for `settleMs` in a row; the time is that of the first poll of
 * the stretch (issued then: the state was reached at most one poll interval
 * plus one answer earlier). Throws when a runner exits or after `timeoutMs`.
 */
export async function untilConverged(runners: readonly RunnerProcess[], shards: number, o: { maxLag: number; settleMs: number; timeoutMs: number; pollMs?: number }): Promise<Converged> {
  const pollMs = o.pollMs ?? 100;
  const t0 = Date.now();
  let since: number | undefined;
  let last = { ok: false, why: 'not polled', held: [] as number[] };
  let polls = 0;
  for (;;) {
    const t = Date.now();
    const dead = runners.find((r) => !r.alive);
    if (dead !== undefined) throw new Error(`runner ${dead.name} exited (${dead.exit?.code ?? dead.exit?.signal}) while the deployment converged\n${dead.tail()}`);
    const docs = await Promise.all(runners.map((r) => r.status()));
    polls++;
    last = assess(docs, shards, o.maxLag);
    if (last.ok) {
      since ??= t;
      if (Date.now() - since >= o.settleMs) return { at: since, held: last.held, polls };
    } else since = undefined;
    if (Date.now() - t0 > o.timeoutMs) throw new Error(`the deployment did not converge within ${o.timeoutMs / 1000} s: ${last.why} (held ${last.held.join('/')})`);
    const wait = pollMs - (Date.now() - t);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}

/** The end offset (high watermark) of each partition of a topic. */
export async function partitionEnds(brokers: readonly string[], topic: string): Promise<Map<number, number>> {
  const admin = kafkaClient(brokers).admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]));
  } finally {
    await admin.disconnect();
  }
}
