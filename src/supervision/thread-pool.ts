import type { StrategyConfig } from '../config/strategy-config.js';
import { deserializeError, serializeError } from '../errors.js';
import { assignThreads, threadCount } from './placement.js';
import type { StrategyEntry } from './strategy-entry.js';
import type { SupervisorContext } from './supervisor-context.js';
import { WorkerHost } from './worker-host.js';

/** What happened to one thread index over its replacements. */
export interface ThreadRecord {
  restarts: number;
  lastFailure: string | undefined;
  lastFailureAt: number | undefined;
}

export interface ThreadPoolHooks {
  /** a thread ended without being asked to (see Restarter.onThreadFailure) */
  onFailure: (host: WorkerHost, error: Error) => void;
  /** a thread was retired (no strategies left on it) */
  onRetired: (index: number) => void;
}

/**
 * The strategy threads: one WorkerHost per thread index (a replaced thread
 * keeps its index), how many threads to start, where a new strategy goes,
 * and the retirement of a thread left without strategies (one thread per
 * strategy mode). Starts strategies on their thread.
 */
export class ThreadPool {
  readonly #ctx: SupervisorContext;
  readonly #hooks: ThreadPoolHooks;
  #hosts: (WorkerHost | undefined)[] = [];
  readonly records = new Map<number, ThreadRecord>();

  constructor(ctx: SupervisorContext, hooks: ThreadPoolHooks) {
    this.#ctx = ctx;
    this.#hooks = hooks;
  }

  /** The live hosts, by index. */
  get threads(): readonly WorkerHost[] {
    return this.#hosts.filter((h): h is WorkerHost => h !== undefined);
  }

  /** Every index, with undefined where a thread was retired (indexes are never reused). */
  get slots(): readonly (WorkerHost | undefined)[] {
    return this.#hosts;
  }

  get size(): number {
    return this.#hosts.length;
  }

  host(index: number): WorkerHost | undefined {
    return this.#hosts[index];
  }

  /**
   * Start the threads `count` strategies need (by the pool size) and say
   * which thread each goes to; a thread that does not start is a rejected
   * result at its index.
   */
  async startFor(count: number): Promise<{ threads: number; hostOf: number[]; starts: PromiseSettledResult<void>[] }> {
    const n = threadCount(count, this.#ctx.options.poolSize);
    const hostOf = assignThreads(count, n);
    this.#hosts = Array.from({ length: n }, (_, index) => this.newHost(index));
    const starts = await Promise.allSettled(this.#hosts.map((h) => h!.start()));
    return { threads: n, hostOf, starts };
  }

  newHost(index: number): WorkerHost {
    const o = this.#ctx.options;
    const sup = this.#ctx.sup;
    return new WorkerHost({
      index,
      workerFile: o.workerFile,
      modules: o.modules,
      baseDir: o.baseDir,
      logLevel: o.logLevel,
      ...(o.maxHeapMb === undefined ? {} : { maxHeapMb: o.maxHeapMb }),
      heartbeatIntervalMs: o.heartbeatIntervalMs ?? 1000,
      controlTimeoutMs: o.controlTimeoutMs ?? 10_000,
      ...(this.#ctx.eventTime
        ? {
            eventTimeSupervision: {
              maxConsecutiveErrors: sup.maxConsecutiveErrors,
              restart: sup.restart,
              rewarmTicks: sup.rewarmTicks,
              hookTimeoutMs: o.controlTimeoutMs ?? 10_000,
            },
          }
        : {}),
      ...(o.backtest === undefined ? {} : { backtest: o.backtest }),
      logger: o.logger,
      writeLog: o.writeLog,
      onFailure: (host, error) => this.#hooks.onFailure(host, error),
      onFillError: (slot, fillId, error) => {
        const e = this.#ctx.strategies.bySlot(slot);
        this.#ctx.log.warn({ strategy_id: e?.config.id, fill_id: fillId, err: error }, 'strategy onFill threw');
      },
    });
  }

  /** Put a replacement (a new host for the same index) in place. */
  replace(index: number, host: WorkerHost): void {
    this.#hosts[index] = host;
  }

  record(index: number): ThreadRecord {
    let r = this.records.get(index);
    if (r === undefined) this.records.set(index, (r = { restarts: 0, lastFailure: undefined, lastFailureAt: undefined }));
    return r;
  }

  /** Start a new strategy on a thread; on failure it is rejected. Does not touch the route table. */
  async startOn(config: StrategyConfig, hostIndex: number): Promise<StrategyEntry | undefined> {
    const host = this.#hosts[hostIndex];
    if (host === undefined) return undefined;
    const { strategies, book } = this.#ctx;
    const entry = strategies.create(config, hostIndex);
    const snapshots = this.#ctx.options.snapshots;
    const r = await host.startStrategy(entry.slot, config, book.get(config.id), snapshots?.forStart(config)).catch((err: unknown) => ({ ok: false as const, error: serializeError(err) }));
    if (!r.ok) {
      strategies.rejectConfig(config, deserializeError(r.error));
      return undefined;
    }
    snapshots?.used(config, r.value);
    entry.life.to('running');
    strategies.add(entry);
    return entry;
  }

  /** One thread per strategy: a new thread. A fixed pool: the least loaded thread (a new one while under the pool size). */
  async hostForNewStrategy(): Promise<number | undefined> {
    const load = new Map<number, number>();
    for (const h of this.threads) if (h.state === 'ready') load.set(h.index, 0);
    for (const e of this.#ctx.strategies.values()) if (e.state !== 'stopped' && load.has(e.host)) load.set(e.host, load.get(e.host)! + 1);
    const pool = this.#ctx.options.poolSize;
    if (pool !== undefined && load.size >= pool) {
      return [...load.entries()].sort((a, b) => a[1] - b[1] || a[0] - b[0])[0]?.[0];
    }
    const index = this.#hosts.length;
    const host = this.newHost(index);
    this.#hosts.push(host);
    try {
      await host.start();
      return index;
    } catch (err) {
      this.#ctx.log.error({ err, thread: index }, 'new thread failed to start');
      this.#hosts[index] = undefined;
      await host.stop().catch(() => undefined);
      return undefined;
    }
  }

  /** In one-thread-per-strategy mode, a thread left without strategies is stopped. */
  async retireIdleHost(index: number): Promise<void> {
    if (this.#ctx.options.poolSize !== undefined) return;
    if ([...this.#ctx.strategies.values()].some((e) => e.host === index && e.state !== 'stopped')) return;
    const host = this.#hosts[index];
    if (host === undefined) return;
    this.#hosts[index] = undefined;
    this.#hooks.onRetired(index);
    await host.stop().catch(() => undefined);
  }

  /** Stop every thread, each within the deadline; the failures are logged. */
  async stopAll(deadlineMs: number): Promise<void> {
    const results = await Promise.allSettled(this.threads.map((h) => h.stop(deadlineMs)));
    for (const r of results) if (r.status === 'rejected') this.#ctx.log.warn({ err: r.reason }, 'thread stop failed');
  }
}
