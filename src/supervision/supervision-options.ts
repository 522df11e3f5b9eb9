import type { SnapshotBook } from '../snapshots/snapshot-book.js';
import type { FillModelOptions } from '../backtest/fill-model.js';
import type { Logger } from 'pino';
import type { StrategyRegistry } from '../strategies/registry.js';
import type { RestartPolicyOptions } from './restart-policy.js';

/**
 * What the live dispatch does with a strategy whose thread is behind (see
 * OverloadOptions): `conflate` sheds its ticks (the newest per instrument is
 * kept and sent when it has room again) so that it holds nobody back;
 * `hold` keeps every tick for it and makes the input wait (backpressure:
 * the consumer's lag grows, for every strategy).
 */
export type OverloadPolicy = 'conflate' | 'hold';

export interface OverloadSetting {
  policy: OverloadPolicy;
  /**
   * A thread is *behind* once it has had unfinished batches without a break
   * for longer than this (WorkerHost.behindMs). Only then does the policy act: a thread that keeps up on
   * average and stalls for a moment (a GC pause, a busy machine) is never
   * shed, the input just waits for it.
   */
  behindAfterMs: number;
}

export interface OverloadOptions extends OverloadSetting {
  /** per strategy id: overrides of the policy and of the bound */
  strategies: Readonly<Record<string, Partial<OverloadSetting>>>;
}

export interface SupervisionOptions {
  /** a strategy failing this many ticks in a row is restarted */
  maxConsecutiveErrors: number;
  /** a thread that has given no sign of life for this long is terminated and replaced */
  hangTimeoutMs: number;
  restart: RestartPolicyOptions;
  /** recent ticks kept per instrument to re-warm a restarted strategy */
  rewarmTicks: number;
  /** live dispatch: batches a thread may have outstanding before it counts as full */
  maxQueuedBatches: number;
  /**
   * live dispatch: a full thread that is behind for longer than its bound
   * is conflated (policy `conflate`, and only while another thread has room:
   * when every thread is full the input waits) or holds the input (`hold`).
   * Strategies sharing a thread share its fate: the thread holds when any
   * of them holds, and is behind only past the longest of their bounds.
   */
  overload: OverloadOptions;
}

/** What a caller may give: any part of the options (the rest are defaults). */
export type SupervisionInput = Partial<Omit<SupervisionOptions, 'restart' | 'overload'>> & {
  restart?: Partial<RestartPolicyOptions>;
  overload?: Partial<OverloadOptions>;
};

export const DEFAULT_SUPERVISION: SupervisionOptions = {
  maxConsecutiveErrors: 10,
  hangTimeoutMs: 5000,
  restart: { initialDelayMs: 500, maxDelayMs: 30_000, intensity: 5, windowMs: 60_000 },
  rewarmTicks: 256,
  maxQueuedBatches: 8,
  // Far beyond a GC pause or a thread descheduled on a busy machine (seen up to ~0.7 s on 2 busy cores), and beyond hangTimeoutMs.
  overload: { policy: 'conflate', behindAfterMs: 10_000, strategies: {} },
};

export interface SupervisorOptions {
  registry: StrategyRegistry;
  /** user strategy modules (also loaded inside every thread) */
  modules: readonly string[];
  baseDir: string;
  /** threads to run; undefined = one per strategy */
  poolSize?: number;
  maxHeapMb?: number;
  heartbeatIntervalMs?: number;
  controlTimeoutMs?: number;
  initialCash?: number;
  supervision?: SupervisionInput;
  /**
   * What supervision decisions run on. `wall` (live): the supervisor decides
   * restarts, back-off and quarantine by the wall clock. `event` (replay):
   * each thread decides them for its strategies by the ticks' timestamps, at
   * exact points of the stream (see workers/runtime/event-time-supervisor.ts),
   * so the same input gives the same output whatever the timing, the pool and
   * the batch size. A thread that dies or hangs is replaced as in live.
   */
  clock?: 'wall' | 'event';
  /** live: the latest snapshot of each strategy, handed to it when it starts (a restart continues from it) */
  snapshots?: SnapshotBook;
  /** backtest: each thread simulates the fills of its strategies' signals (needs clock `event`) */
  backtest?: FillModelOptions;
  /**
   * Keep every tick of the live stream in the re-warm history, routed or not
   * (a sharded runner: a strategy added to a shard held here may want an
   * instrument no strategy here wanted until then).
   */
  recordAllTicks?: boolean;
  logLevel: string;
  logger: Logger;
  writeLog: (line: string) => void;
  workerFile: string;
}

/** The complete options: the defaults with what the caller gave. */
export function compileSupervision(s: SupervisionInput = {}): SupervisionOptions {
  return {
    ...DEFAULT_SUPERVISION,
    ...s,
    restart: { ...DEFAULT_SUPERVISION.restart, ...(s.restart ?? {}) },
    overload: { ...DEFAULT_SUPERVISION.overload, ...(s.overload ?? {}) },
  };
}

/** The overload setting of one strategy: the configured default with its own overrides. */
export function overloadFor(o: OverloadOptions, id: string): OverloadSetting {
  const own = o.strategies[id];
  return { policy: own?.policy ?? o.policy, behindAfterMs: own?.behindAfterMs ?? o.behindAfterMs };
}
