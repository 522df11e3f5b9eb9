import type { Logger } from 'pino';
import type { StrategyConfig } from '../config/strategy-config.js';
import type { Fill } from '../domain/fill.js';
import { PortfolioBook } from '../domain/portfolio-book.js';
import { portfolioToJSON } from '../domain/portfolio.js';
import type { Signal } from '../domain/signal.js';
import type { Tick } from '../domain/tick.js';
import { RunnerError, deserializeError, serializeError, type SerializedError } from '../errors.js';
import type { BatchResultMessage, SlotHealth } from '../protocol/messages.js';
import { RouteTable, type Placement } from '../routing/route-table.js';
import type { StrategyRegistry } from '../strategies/registry.js';
import { diffConfigs } from './config-diff.js';
import { ErrorLogLimiter } from './error-log-limiter.js';
import { assignThreads, threadCount } from './placement.js';
import { decideRestart, type RestartPolicyOptions } from './restart-policy.js';
import { TickHistory } from './tick-history.js';
import { WorkerHost, type HostState } from './worker-host.js';

/**
 * Lifecycle of the supervisor:
 *   created → starting → running → stopping → stopped
 * dispatch() and applyFill() need `running`; stop() is idempotent.
 */
export type SupervisorState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped';

/**
 * Lifecycle of one strategy, as the supervisor sees it:
 *   running → restarting → running          (errors in a row, its thread died or hung, an operator asked)
 *   restarting → quarantined                (more than `intensity` restarts within the window)
 *   quarantined → restarting                (an operator resumes it, or its configuration changes)
 *   any → stopped                           (removed from the configuration, or shutdown)
 * Only `running` strategies are in the route table.
 */
export type StrategyState = 'running' | 'restarting' | 'quarantined' | 'stopped';

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

/** Ticks per re-warm batch. */
const REWARM_CHUNK = 512;

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
  logLevel: string;
  logger: Logger;
  writeLog: (line: string) => void;
  workerFile: string;
}

/** Why a configured strategy is not running. */
export interface StrategyRejection {
  strategyId: string;
  error: SerializedError;
}

export interface StartReport {
  running: string[];
  rejected: StrategyRejection[];
  inactive: string[];
  threads: number;
}

/** A tick a strategy failed on, in round order. */
export interface StrategyTickError {
  strategyId: string;
  /** index of the tick in the round; -1 when the whole batch was lost with its thread */
  tickIndex: number;
  error: SerializedError;
}

export interface RoundResult {
  /** ordered by tick, then strategy id, then emission order */
  signals: Signal[];
  errors: StrategyTickError[];
  /** ticks that no strategy wants */
  unrouted: number;
}

interface StrategyEntry {
  config: StrategyConfig;
  host: number;
  slot: number;
  state: StrategyState;
  /** restarts that counted against the restart intensity, within the window */
  recentRestarts: number[];
  /** restart attempts since the strategy first started */
  restarts: number;
  lastRestartReason: string | undefined;
  quarantineReason: string | undefined;
  restartTimer: NodeJS.Timeout | undefined;
  /** bumped whenever a restart begins or is superseded: an older restart still awaiting something gives up */
  generation: number;
  /** ends a pending back-off wait early (the restart then sees it was superseded) */
  cancelRestart: (() => void) | undefined;
  /** a tick the strategy hung or crashed on: never re-warm it with that one */
  poison: Tick | undefined;
  /** ticks replaced by a newer one while its thread was saturated (never seen by the strategy) */
  conflatedTicks: number;
  /** times its thread was found behind for longer than the bound (each one a conflation or a hold) */
  behindEpisodes: number;
  /** the last configuration update that could not be applied (the running version kept running), until the source changes again */
  rejectedUpdate: RejectedUpdate | undefined;
  /** configuration updates rejected since it started */
  rejectedUpdates: number;
  /** down by its thread's own decision (event time): kept in the routes, its thread skips and counts its ticks */
  threadDown: boolean;
  /** ticks it was routed none of, or its thread skipped, because it was restarting or quarantined */
  missedTicks: number;
  /**
   * While a changed configuration is being started: the version that ran
   * before it. If the new one fails to start (create() or onStart throws),
   * the update is rejected and this one runs again.
   */
  rollback: { config: StrategyConfig; fields: readonly string[]; json: string } | undefined;
}

interface RejectedUpdate {
  code: string;
  error: string;
  fields: readonly string[];
  /** the rejected configuration, as JSON: the same one read again is not news */
  json: string;
}

interface HostBatch {
  ticks: Tick[];
  routes: number[];
  /** local tick index → round index */
  index: number[];
}

interface ThreadRecord {
  restarts: number;
  lastFailure: string | undefined;
  lastFailureAt: number | undefined;
}

/**
 * The main thread's heart: starts the threads, places strategies on them,
 * owns the routing table and the portfolios, sends each dispatch round to the
 * threads that need it and merges what they return into one ordered list.
 * It also supervises: restarts a strategy that keeps failing, replaces a
 * thread that died or hung (restarting its strategies with their portfolios
 * and re-warmed state), backs off and quarantines crash loops.
 */
export class Supervisor {
  readonly #o: SupervisorOptions;
  readonly #sup: SupervisionOptions;
  readonly #log: Logger;
  readonly #book: PortfolioBook;
  readonly #errorLog: ErrorLogLimiter;
  readonly #history: TickHistory;
  #state: SupervisorState = 'created';
  #hosts: (WorkerHost | undefined)[] = [];
  readonly #threadRecords = new Map<number, ThreadRecord>();
  #routes: RouteTable = RouteTable.empty();
  readonly #strategies = new Map<string, StrategyEntry>();
  readonly #bySlot = new Map<number, StrategyEntry>();
  #rejected: StrategyRejection[] = [];
  #nextSlot = 0;
  #watchdog: NodeJS.Timeout | undefined;
  #watchdogMs = 1000;
  /** when the watchdog last ran */
  #watchdogAt = 0;
  /** the last watchdog run was skipped as late (the next one judges, late or not) */
  #watchdogSkipped = false;
  #stopping: Promise<void> | undefined;
  #rounds = 0;
  #ticks = 0;
  #unrouted = 0;
  #signals = 0;
  #tickErrors = 0;
  #droppedTicks = 0;
  #fills = { applied: 0, duplicate: 0, unknown: 0 };
  /** per thread: slot → instrument → the newest tick a saturated thread has not taken yet */
  readonly #conflated = new Map<number, Map<number, Map<number, { seq: number; tick: Tick }>>>();
  #conflationSeq = 0;
  #conflatedTicks = 0;
  #lateSignals: ((signals: Signal[]) => void) | undefined;
  /** threads being conflated (policy conflate, found behind while another had room) */
  readonly #slowThreads = new Set<number>();
  /** threads in a behind episode (counted and logged once per episode) */
  readonly #behindThreads = new Set<number>();
  /** per thread: the overload setting its strategies give it (rebuilt with the routes) */
  #overloadOf = new Map<number, OverloadSetting & { ids: string[] }>();
  #behindEpisodes = 0;
  #rejectedUpdates = 0;
  /** instrument → strategies out of the routes while restarting or quarantined; undefined when there are none (the common case) */
  #absent: Map<number, StrategyEntry[]> | undefined;
  readonly #eventTime: boolean;
  #capacityWaiters: (() => void)[] = [];
  #applying: Promise<unknown> = Promise.resolve();
  /** id → the JSON of a configuration that was rejected: not retried until it changes */
  readonly #rejectedConfigs = new Map<string, string>();

  constructor(options: SupervisorOptions) {
    this.#o = options;
    const s = options.supervision ?? {};
    this.#sup = {
      ...DEFAULT_SUPERVISION,
      ...s,
      restart: { ...DEFAULT_SUPERVISION.restart, ...(s.restart ?? {}) },
      overload: { ...DEFAULT_SUPERVISION.overload, ...(s.overload ?? {}) },
    };
    this.#log = options.logger.child({ component: 'supervisor' });
    this.#book = new PortfolioBook(options.initialCash ?? 0);
    this.#errorLog = new ErrorLogLimiter(10, 1000);
    this.#history = new TickHistory(this.#sup.rewarmTicks);
    this.#eventTime = options.clock === 'event';
  }

  get state(): SupervisorState {
    return this.#state;
  }

  get routes(): RouteTable {
    return this.#routes;
  }

  get threads(): readonly WorkerHost[] {
    return this.#hosts.filter((h): h is WorkerHost => h !== undefined);
  }

  /** The state of one strategy (undefined when it is not configured or was rejected). */
  strategyState(id: string): StrategyState | undefined {
    return this.#strategies.get(id)?.state;
  }

  /**
   * Validate every active configuration on this thread, start the threads, and
   * start each strategy in its thread. A strategy that fails anywhere on the
   * way is reported in `rejected` and the others start regardless.
   */
  async start(configs: readonly StrategyConfig[]): Promise<StartReport> {
    if (this.#state !== 'created') throw new RunnerError('SUPERVISOR_STATE', `start() in state ${this.#state}`);
    this.#state = 'starting';
    const inactive = configs.filter((c) => !c.is_active).map((c) => c.id);
    const accepted = this.#validate(configs.filter((c) => c.is_active));

    const n = threadCount(accepted.length, this.#o.poolSize);
    const hostOf = assignThreads(accepted.length, n);
    this.#hosts = Array.from({ length: n }, (_, index) => this.#newHost(index));
    const hostStarts = await Promise.allSettled(this.#hosts.map((h) => h!.start()));

    await Promise.all(
      accepted.map(async (config, i) => {
        const index = hostOf[i]!;
        const hs = hostStarts[index]!;
        if (hs.status === 'rejected') {
          this.#reject(config.id, hs.reason);
          return;
        }
        await this.#startOn(config, index);
      }),
    );

    this.#rebuildRoutes();
    this.#state = 'running';
    this.#watchdogMs = Math.max(100, Math.min(1000, this.#sup.hangTimeoutMs / 4));
    this.#watchdogAt = Date.now();
    this.#watchdog = setInterval(() => this.#checkHangs(), this.#watchdogMs);
    this.#watchdog.unref();
    const report: StartReport = {
      running: accepted.map((c) => c.id).filter((id) => this.#strategies.get(id)?.state === 'running'),
      rejected: [...this.#rejected],
      inactive,
      threads: n,
    };
    this.#log.info(
      { running: report.running.length, rejected: report.rejected.length, inactive: inactive.length, threads: n, instruments: this.#routes.instrumentCount },
      'supervisor started',
    );
    return report;
  }

  /** Configurations whose type and parameters resolve; the others are rejected (reported). */
  #validate(configs: readonly StrategyConfig[]): StrategyConfig[] {
    const ok: StrategyConfig[] = [];
    for (const c of configs) {
      try {
        this.#o.registry.resolve(c);
        ok.push(c);
      } catch (err) {
        this.#reject(c.id, err);
        this.#rejectedConfigs.set(c.id, JSON.stringify(c));
      }
    }
    return ok;
  }

  #newHost(index: number): WorkerHost {
    return new WorkerHost({
      index,
      workerFile: this.#o.workerFile,
      modules: this.#o.modules,
      baseDir: this.#o.baseDir,
      logLevel: this.#o.logLevel,
      ...(this.#o.maxHeapMb === undefined ? {} : { maxHeapMb: this.#o.maxHeapMb }),
      heartbeatIntervalMs: this.#o.heartbeatIntervalMs ?? 1000,
      controlTimeoutMs: this.#o.controlTimeoutMs ?? 10_000,
      ...(this.#eventTime
        ? {
            eventTimeSupervision: {
              maxConsecutiveErrors: this.#sup.maxConsecutiveErrors,
              restart: this.#sup.restart,
              rewarmTicks: this.#sup.rewarmTicks,
              hookTimeoutMs: this.#o.controlTimeoutMs ?? 10_000,
            },
          }
        : {}),
      logger: this.#o.logger,
      writeLog: this.#o.writeLog,
      onFailure: (host, error) => void this.#onThreadFailure(host, error),
      onFillError: (slot, fillId, error) => {
        const e = this.#bySlot.get(slot);
        this.#log.warn({ strategy_id: e?.config.id, fill_id: fillId, err: error }, 'strategy onFill threw');
      },
    });
  }

  /** Start a new strategy on a thread; on failure it is rejected. Does not touch the route table. */
  async #startOn(config: StrategyConfig, hostIndex: number): Promise<StrategyEntry | undefined> {
    const host = this.#hosts[hostIndex];
    if (host === undefined) return undefined;
    const entry: StrategyEntry = {
      config,
      host: hostIndex,
      slot: this.#nextSlot++,
      state: 'restarting',
      recentRestarts: [],
      restarts: 0,
      lastRestartReason: undefined,
      quarantineReason: undefined,
      restartTimer: undefined,
      generation: 0,
      cancelRestart: undefined,
      poison: undefined,
      conflatedTicks: 0,
      behindEpisodes: 0,
      rejectedUpdate: undefined,
      rejectedUpdates: 0,
      threadDown: false,
      missedTicks: 0,
      rollback: undefined,
    };
    const r = await host.startStrategy(entry.slot, config, this.#book.get(config.id)).catch((err: unknown) => ({ ok: false as const, error: serializeError(err) }));
    if (!r.ok) {
      this.#reject(config.id, deserializeError(r.error));
      this.#rejectedConfigs.set(config.id, JSON.stringify(config));
      return undefined;
    }
    entry.state = 'running';
    this.#strategies.set(config.id, entry);
    this.#bySlot.set(entry.slot, entry);
    return entry;
  }

  #reject(strategyId: string, err: unknown): void {
    const error = serializeError(err);
    this.#rejected = this.#rejected.filter((r) => r.strategyId !== strategyId);
    this.#rejected.push({ strategyId, error });
    this.#log.error({ strategy_id: strategyId, code: error.code, err: error.message }, 'strategy not started');
  }

  /** Build a new route table from the running strategies and swap it in whole. */
  #rebuildRoutes(): void {
    const placements: Placement[] = [...this.#strategies.values()]
      .filter((e) => e.state === 'running' || e.threadDown)
      .sort((a, b) => a.slot - b.slot)
      .map((e) => ({ strategyId: e.config.id, instruments: e.config.instruments, host: e.host, slot: e.slot }));
    this.#routes = RouteTable.build(placements);
    this.#overloadOf = this.#threadOverload();
    // Out of the routes while restarting or quarantined: their ticks are counted as missed, not as unwanted.
    let absent: Map<number, StrategyEntry[]> | undefined;
    for (const e of this.#strategies.values()) {
      if ((e.state !== 'restarting' && e.state !== 'quarantined') || e.threadDown) continue;
      absent ??= new Map();
      for (const t of new Set(e.config.instruments)) (absent.get(t) ?? absent.set(t, []).get(t)!).push(e);
    }
    this.#absent = absent;
  }

  /** The overload setting of one strategy: the configured default with its own overrides. */
  #overloadFor(id: string): OverloadSetting {
    const o = this.#sup.overload;
    const own = o.strategies[id];
    return { policy: own?.policy ?? o.policy, behindAfterMs: own?.behindAfterMs ?? o.behindAfterMs };
  }

  /** Per thread: `hold` if any of its strategies holds; behind past the longest of their bounds. */
  #threadOverload(): Map<number, OverloadSetting & { ids: string[] }> {
    const m = new Map<number, OverloadSetting & { ids: string[] }>();
    for (const e of this.#strategies.values()) {
      if (e.state === 'stopped') continue;
      const own = this.#overloadFor(e.config.id);
      const t = m.get(e.host);
      if (t === undefined) m.set(e.host, { ...own, ids: [e.config.id] });
      else {
        t.ids.push(e.config.id);
        if (own.policy === 'hold') t.policy = 'hold';
        t.behindAfterMs = Math.max(t.behindAfterMs, own.behindAfterMs);
      }
    }
    return m;
  }

  /**
   * One dispatch round: route each tick (one Map lookup), build one batch per
   * thread, post them, and merge the answers. Rounds may overlap (the caller
   * pipelines them); each thread answers its batches in order.
   * With `emit: false` (warm-up after a restart) strategies see the ticks and
   * no signals come out.
   */
  dispatch(ticks: readonly Tick[], options: { emit?: boolean } = {}): Promise<RoundResult> {
    if (this.#state !== 'running') {
      return Promise.reject(new RunnerError('SUPERVISOR_STATE', `dispatch() in state ${this.#state}`));
    }
    const { batches, unrouted } = this.#route(ticks);
    const pending: Promise<BatchResultMessage | Error>[] = [];
    const sent: HostBatch[] = [];
    for (let h = 0; h < batches.length; h++) {
      const b = batches[h];
      if (b === undefined) continue;
      sent.push(b);
      pending.push(this.#send(h, b));
    }
    if (pending.length === 0) return Promise.resolve({ signals: [], errors: [], unrouted });
    const emit = options.emit !== false;
    return Promise.all(pending).then((results) => this.#merge(ticks, sent, results, unrouted, emit));
  }

  /**
   * The live variant: one promise per thread instead of one per round, so a
   * slow thread delays only its own strategies' signals. A thread that
   * already has `maxQueuedBatches` batches outstanding gets nothing new:
   * its strategies' ticks are conflated (the newest tick per instrument is
   * kept and sent when the thread catches up; the replaced ones are counted
   * as dropped), and its part of the round is complete at once. The consumer
   * never waits for a slow strategy.
   */
  dispatchParts(ticks: readonly Tick[], options: { emit?: boolean } = {}): { parts: Promise<RoundResult>[]; unrouted: number } {
    if (this.#state !== 'running') {
      return { parts: [Promise.reject(new RunnerError('SUPERVISOR_STATE', `dispatch() in state ${this.#state}`))], unrouted: 0 };
    }
    const { batches, unrouted } = this.#route(ticks);
    const emit = options.emit !== false;
    const parts: Promise<RoundResult>[] = [];
    for (let h = 0; h < batches.length; h++) {
      const b = batches[h];
      if (b === undefined) continue;
      const host = this.#hosts[h];
      if (emit && host !== undefined && host.state === 'ready' && (this.#conflated.has(h) || (this.#slowThreads.has(h) && host.queueDepth >= this.#sup.maxQueuedBatches))) {
        // Behind older conflated ticks, a new batch waits its turn in the buffer: per-instrument order holds.
        this.#conflate(h, b);
        this.#flushConflated(h);
        parts.push(Promise.resolve({ signals: [], errors: [], unrouted: 0 }));
        continue;
      }
      parts.push(
        this.#send(h, b).then((res) => {
          const r = this.#merge(ticks, [b], [res], 0, emit);
          this.#flushConflated(h);
          return r;
        }),
      );
    }
    return { parts, unrouted };
  }

  /**
   * Live dispatch: resolves when a round may be dispatched, i.e. every ready
   * thread has room, or is full but being conflated. A full thread becomes
   * conflated only once it is *behind* for longer than its bound (it has had
   * unfinished batches without a break for longer than `behindAfterMs`,
   * WorkerHost.behindMs), its policy is
   * `conflate` and another thread has room; until then the input waits for
   * it. The mark is cleared once it has caught up completely (nothing queued,
   * nothing conflated).
   */
  capacity(): Promise<void> | undefined {
    // The common case costs no promise: there is room.
    if (this.#state !== 'running' || this.#hasCapacity(Date.now())) return undefined;
    return this.#waitCapacity();
  }

  async #waitCapacity(): Promise<void> {
    // Woken by every answer; the timer only notices a thread crossing its bound while it answers nothing.
    const pollMs = Math.max(10, Math.min(250, this.#sup.overload.behindAfterMs / 4));
    while (this.#state === 'running' && !this.#hasCapacity(Date.now())) {
      await new Promise<void>((resolve) => {
        this.#capacityWaiters.push(resolve);
        setTimeout(resolve, pollMs).unref();
      });
    }
  }

  #hasCapacity(now: number): boolean {
    const max = this.#sup.maxQueuedBatches;
    let anyRoom = false;
    let full: WorkerHost[] | undefined;
    for (const host of this.#hosts) {
      if (host === undefined || host.state !== 'ready') continue;
      const h = host.index;
      // An episode ends when the thread catches up: its busy period, and so behindMs, starts again from 0.
      if (this.#behindThreads.has(h) && !this.#slowThreads.has(h) && host.behindMs(now) <= (this.#overloadOf.get(h)?.behindAfterMs ?? 0)) this.#behindThreads.delete(h);
      if (host.queueDepth < max) {
        anyRoom = true;
        if (this.#slowThreads.has(h) && host.queueDepth === 0 && !this.#conflated.has(h)) {
          this.#slowThreads.delete(h);
          this.#behindThreads.delete(h);
          this.#log.info({ thread: h, strategies: this.#overloadOf.get(h)?.ids ?? [] }, 'thread caught up: no longer conflating its ticks');
        }
      } else if (!this.#slowThreads.has(h)) (full ??= []).push(host);
    }
    if (full === undefined) return true;
    let ok = true;
    for (const host of full) {
      const h = host.index;
      const o = this.#overloadOf.get(h);
      const behind = host.behindMs(now);
      if (o === undefined || behind <= o.behindAfterMs) {
        ok = false;
        continue;
      }
      const shed = o.policy === 'conflate' && anyRoom;
      const fields = { thread: h, strategies: o.ids, behind_ms: behind, behind_after_ms: o.behindAfterMs, policy: o.policy };
      if (!this.#behindThreads.has(h)) {
        this.#behindThreads.add(h);
        this.#behindEpisodes++;
        for (const id of o.ids) {
          const e = this.#strategies.get(id);
          if (e !== undefined) e.behindEpisodes++;
        }
        if (o.policy === 'hold') this.#log.warn(fields, 'strategy thread is behind: holding the input back for it (overload policy "hold")');
        else if (!shed) this.#log.warn(fields, 'strategy thread is behind and no other thread has room: the input waits');
      }
      if (shed) {
        this.#slowThreads.add(h);
        this.#log.warn(fields, 'strategy thread is behind: conflating its ticks (newest per instrument) so it does not hold the others back');
      } else ok = false;
    }
    return ok;
  }

  #notifyCapacity(): void {
    const w = this.#capacityWaiters;
    this.#capacityWaiters = [];
    for (const r of w) r();
  }

  /** Where signals of conflated ticks (sent when a slow thread catches up) go; they belong to no round. */
  onLateSignals(handler: (signals: Signal[]) => void): void {
    this.#lateSignals = handler;
  }

  /** Route each tick with one Map lookup into one batch per thread. */
  #route(ticks: readonly Tick[]): { batches: (HostBatch | undefined)[]; unrouted: number } {
    this.#rounds++;
    this.#ticks += ticks.length;
    const table = this.#routes;
    const history = this.#history;
    const absent = this.#absent;
    const batches: (HostBatch | undefined)[] = new Array(this.#hosts.length);
    let unrouted = 0;
    for (let r = 0; r < ticks.length; r++) {
      const tick = ticks[r]!;
      const targets = table.lookup(tick.instrument_token);
      // Only while a strategy is restarting or quarantined: one more lookup per tick.
      const away = absent === undefined ? undefined : absent.get(tick.instrument_token);
      if (away !== undefined) for (let a = 0; a < away.length; a++) away[a]!.missedTicks++;
      if (targets === undefined) {
        if (away === undefined) unrouted++;
        else history.record(tick); // its re-warm wants them
        continue;
      }
      history.record(tick);
      for (let t = 0; t < targets.length; t++) {
        const target = targets[t]!;
        let b = batches[target.host];
        if (b === undefined) batches[target.host] = b = { ticks: [], routes: [], index: [] };
        b.ticks.push(tick);
        const enc = target.encoded;
        for (let k = 0; k < enc.length; k++) b.routes.push(enc[k]!);
        b.index.push(r);
      }
    }
    this.#unrouted += unrouted;
    return { batches, unrouted };
  }

  #send(h: number, b: HostBatch): Promise<BatchResultMessage | Error> {
    const host = this.#hosts[h];
    if (host === undefined) return Promise.resolve(new RunnerError('WORKER_EXITED', `thread ${h} is gone`));
    return host.sendBatch(b.ticks, b.routes).then(
      (r) => {
        this.#notifyCapacity();
        // Per thread, in batch order (rounds may complete out of order): what its strategies' thread decided.
        if (r.supervision !== undefined || r.missed !== undefined) this.#onThreadSupervision(r);
        return r;
      },
      (e: unknown) => {
        this.#notifyCapacity();
        return e instanceof Error ? e : new Error(String(e));
      },
    );
  }

  /** Keep the newest tick per (strategy, instrument) of a batch a saturated thread cannot take now. */
  #conflate(h: number, b: HostBatch): void {
    let bySlot = this.#conflated.get(h);
    if (bySlot === undefined) this.#conflated.set(h, (bySlot = new Map()));
    for (let i = 0, k = 0; i < b.ticks.length; i++) {
      const tick = b.ticks[i]!;
      const n = b.routes[k++]!;
      for (let j = 0; j < n; j++) {
        const slot = b.routes[k++]!;
        let byToken = bySlot.get(slot);
        if (byToken === undefined) bySlot.set(slot, (byToken = new Map()));
        if (byToken.has(tick.instrument_token)) {
          const e = this.#bySlot.get(slot);
          if (e !== undefined) e.conflatedTicks++;
          this.#conflatedTicks++;
        }
        byToken.set(tick.instrument_token, { seq: this.#conflationSeq++, tick });
      }
    }
  }

  /** Send what was conflated for a thread once it has room again. */
  #flushConflated(h: number): void {
    const bySlot = this.#conflated.get(h);
    const host = this.#hosts[h];
    if (bySlot === undefined || host === undefined || host.state !== 'ready' || host.queueDepth >= this.#sup.maxQueuedBatches) return;
    this.#conflated.delete(h);
    const items: { seq: number; tick: Tick; slot: number }[] = [];
    for (const [slot, byToken] of bySlot) {
      if (this.#bySlot.get(slot)?.state !== 'running') continue;
      for (const { seq, tick } of byToken.values()) items.push({ seq, tick, slot });
    }
    if (items.length === 0) return;
    items.sort((a, b) => a.seq - b.seq);
    const b: HostBatch = { ticks: [], routes: [], index: [] };
    for (let i = 0; i < items.length; ) {
      const tick = items[i]!.tick;
      const slots: number[] = [];
      while (i < items.length && items[i]!.tick === tick) slots.push(items[i++]!.slot);
      b.index.push(b.ticks.length);
      b.ticks.push(tick);
      b.routes.push(slots.length, ...slots);
    }
    void this.#send(h, b).then((res) => {
      const r = this.#merge(b.ticks, [b], [res], 0, true);
      if (r.signals.length > 0) this.#lateSignals?.(r.signals);
      this.#flushConflated(h);
    });
  }

  #merge(ticks: readonly Tick[], sent: HostBatch[], results: (BatchResultMessage | Error)[], unrouted: number, emit: boolean): RoundResult {
    const keyed: { r: number; id: string; s: Signal }[] = [];
    const errors: StrategyTickError[] = [];
    for (let h = 0; h < results.length; h++) {
      const res = results[h]!;
      const b = sent[h]!;
      if (res instanceof Error) {
        // The thread died with this batch: every strategy it held for these ticks lost them.
        const ids = new Map<string, number>();
        for (let i = 0, k = 0; i < b.ticks.length; i++) {
          const n = b.routes[k++]!;
          for (let j = 0; j < n; j++) {
            const e = this.#bySlot.get(b.routes[k++]!);
            if (e !== undefined) ids.set(e.config.id, (ids.get(e.config.id) ?? 0) + 1);
          }
        }
        for (const [id, lost] of ids) {
          this.#droppedTicks += lost;
          errors.push({ strategyId: id, tickIndex: -1, error: serializeError(res) });
        }
        continue;
      }
      if (emit) for (const e of res.signals) keyed.push({ r: b.index[e.i]!, id: e.signal.strategy_id, s: e.signal });
      for (const e of res.errors) {
        const entry = this.#bySlot.get(e.slot);
        const strategyId = entry?.config.id ?? `slot ${e.slot}`;
        errors.push({ strategyId, tickIndex: b.index[e.i]!, error: e.error });
        if (!this.#eventTime && entry !== undefined && entry.state === 'running' && e.consecutive >= this.#sup.maxConsecutiveErrors) {
          void this.#restart(entry, `${e.consecutive} consecutive errors, last: [${e.error.code}] ${e.error.message}`, true);
        }
      }
    }
    // Stable sort: emission order within one strategy's tick is kept (signals are few: the sort is cheap).
    keyed.sort((a, b) => a.r - b.r || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const signals = keyed.map((k) => k.s);
    this.#signals += signals.length;
    this.#tickErrors += errors.length;
    for (const e of errors) {
      if (this.#errorLog.allow(e.strategyId)) {
        this.#log.warn(
          { strategy_id: e.strategyId, code: e.error.code, err: e.error.message, tick: e.tickIndex >= 0 ? ticks[e.tickIndex] : undefined, suppressed: this.#errorLog.suppressed(e.strategyId) },
          'strategy failed on a tick',
        );
      }
    }
    return { signals, errors, unrouted };
  }

  // ------------------------------------------------------------------ supervision

  /** Event-time supervision: mirror what a thread decided for its strategies (state, counters, log lines). */
  #onThreadSupervision(r: BatchResultMessage): void {
    for (const [slot, n] of r.missed ?? []) {
      const e = this.#bySlot.get(slot);
      if (e !== undefined) e.missedTicks += n;
    }
    for (const ev of r.supervision ?? []) {
      const e = this.#bySlot.get(ev.slot);
      if (e === undefined || e.state === 'stopped') continue;
      e.restarts = ev.restarts;
      const fields = { strategy_id: e.config.id, reason: ev.reason, restarts: ev.restarts, clock: 'event' };
      if (ev.kind === 'restarted') {
        e.state = 'running';
        e.threadDown = false;
        this.#log.info(fields, 'strategy restarted');
      } else if (ev.kind === 'retired') {
        e.state = 'restarting';
        e.threadDown = true;
        e.lastRestartReason = ev.reason;
        this.#log.warn({ ...fields, delay_ms: ev.delayMs, resume_at: ev.resumeAt }, 'restarting strategy');
      } else {
        e.state = 'quarantined';
        e.threadDown = true;
        e.quarantineReason = ev.reason;
        this.#log.error(fields, 'strategy quarantined: it stays down until its configuration changes or an operator resumes it');
      }
    }
  }

  /** What supervision did to a strategy (for summaries; no thread is asked). */
  supervisionOf(id: string): { restarts: number; missedTicks: number; quarantined: boolean } | undefined {
    const e = this.#strategies.get(id);
    return e === undefined ? undefined : { restarts: e.restarts, missedTicks: e.missedTicks, quarantined: e.quarantineReason !== undefined };
  }

  /** Watchdog: a ready thread silent for longer than hangTimeoutMs is hung; terminate it (the failure path replaces it). */
  #checkHangs(): void {
    if (this.#state !== 'running') return;
    const now = Date.now();
    const sinceLast = now - this.#watchdogAt;
    this.#watchdogAt = now;
    // Late: this (the main) thread was held up itself (a GC pause, a busy
    // machine). What the threads said meanwhile still waits in their ports,
    // behind this timer: judge them at the next run, once it has been read.
    // Once only: under a main thread that is late every time, a hung thread
    // must still be judged.
    const late = sinceLast > 2 * this.#watchdogMs;
    if (late && !this.#watchdogSkipped) {
      this.#watchdogSkipped = true;
      return;
    }
    this.#watchdogSkipped = false;
    for (const host of this.#hosts) {
      if (host === undefined || host.state !== 'ready') continue;
      const silent = host.silentForMs(now);
      if (silent <= this.#sup.hangTimeoutMs) continue;
      const slot = host.activeSlot();
      const culprit = slot === undefined ? undefined : this.#bySlot.get(slot)?.config.id;
      const err = new RunnerError(
        'WORKER_HUNG',
        `thread ${host.index} gave no sign of life for ${silent} ms${culprit === undefined ? '' : ` (inside strategy '${culprit}' onTick)`}; terminating it`,
        { details: { thread: host.index, strategy_id: culprit, silent_ms: silent } },
      );
      void host.terminate(err);
    }
  }

  /**
   * A thread ended (crash, heap limit, process.exit in a strategy) or was
   * terminated (hung). Replace it and restart its strategies: the one that was
   * running when it ended counts a restart (with back-off and quarantine); the
   * others on the thread are restarted at once, and their status says why.
   */
  async #onThreadFailure(host: WorkerHost, error: Error): Promise<void> {
    if (this.#state !== 'running' || this.#hosts[host.index] !== host) return;
    const index = host.index;
    const rec = this.#threadRecord(index);
    rec.restarts++;
    rec.lastFailure = error.message;
    rec.lastFailureAt = Date.now();
    const active = host.lastActive;
    const entries = [...this.#strategies.values()].filter((e) => e.host === index && e.state !== 'stopped');
    const culprit = entries.find((e) => e.slot === active?.slot) ?? (entries.length === 1 ? entries[0] : undefined);
    if (culprit !== undefined && active?.tick !== undefined) culprit.poison = active.tick;
    for (const e of entries) {
      // Whatever restart was under way for these strategies belongs to the dead thread.
      e.generation++;
      this.#cancelRestart(e);
      if (e.state === 'running') e.state = 'restarting';
      e.threadDown = false;
    }
    this.#rebuildRoutes();
    this.#behindThreads.delete(index);
    this.#slowThreads.delete(index);
    this.#conflated.delete(index);
    await host.terminate(error).catch(() => {});
    if (this.#state !== 'running' || this.#hosts[index] !== host) return; // retired or stopped meanwhile

    const replacement = this.#newHost(index);
    this.#hosts[index] = replacement;
    try {
      await replacement.start();
    } catch (err) {
      // The thread cannot even start: try again with back-off (its strategies stay `restarting`).
      const delay = Math.min(30_000, 500 * 2 ** Math.min(10, rec.restarts - 1));
      this.#log.error({ err, thread: index, retry_in_ms: delay }, 'replacement thread failed to start; retrying');
      setTimeout(() => void this.#onThreadFailure(replacement, err instanceof Error ? err : new Error(String(err))), delay).unref();
      return;
    }
    if (this.#state !== 'running' || this.#hosts[index] !== replacement) {
      await replacement.stop().catch(() => undefined);
      return;
    }
    for (const e of entries) {
      // Removed by a configuration change while the thread was being replaced: nothing to move.
      if (e.state === 'stopped' || !this.#strategies.has(e.config.id)) continue;
      e.slot = this.#moveSlot(e);
      if (e.state === 'quarantined') continue;
      if (e === culprit) void this.#restart(e, `its thread ended: ${error.message}`, true, false);
      else void this.#restart(e, `restarted with its thread ${index}, which ended because of ${culprit === undefined ? 'an unknown strategy' : `'${culprit.config.id}'`}: ${error.message}`, false, false);
    }
  }

  /** A fresh slot number for an entry moving to a new thread instance. */
  #moveSlot(e: StrategyEntry): number {
    this.#bySlot.delete(e.slot);
    const slot = this.#nextSlot++;
    this.#bySlot.set(slot, e);
    return slot;
  }

  #threadRecord(index: number): ThreadRecord {
    let r = this.#threadRecords.get(index);
    if (r === undefined) this.#threadRecords.set(index, (r = { restarts: 0, lastFailure: undefined, lastFailureAt: undefined }));
    return r;
  }

  /**
   * Restart one strategy on its thread: out of the routes, onStop, start
   * again with its portfolio, re-warm from recent ticks, back in the routes.
   * `counts`: whether this restart counts against the restart intensity (the
   * strategy's own fault) — then it waits for its back-off delay, or is
   * quarantined. `stopFirst`: the old instance is still alive in the thread.
   */
  async #restart(e: StrategyEntry, reason: string, counts: boolean, stopFirst = true): Promise<void> {
    if (e.state === 'stopped' || e.state === 'quarantined' || this.#state !== 'running') return;
    if (e.state === 'restarting' && e.restartTimer !== undefined) return; // already scheduled
    const gen = ++e.generation;
    const superseded = (): boolean => e.generation !== gen || e.state !== 'restarting' || this.#state !== 'running';
    const wasRunning = e.state === 'running' || e.threadDown;
    e.threadDown = false;
    e.state = 'restarting';
    e.lastRestartReason = reason;
    if (wasRunning) this.#rebuildRoutes();
    let delayMs = 0;
    if (counts) {
      const d = decideRestart(this.#sup.restart, e.recentRestarts, Date.now());
      if (d.action === 'quarantine') {
        this.#quarantine(e, `${d.recent} restarts within ${this.#sup.restart.windowMs} ms; last: ${reason}`);
        if (stopFirst) await this.#hosts[e.host]?.stopStrategy(e.slot).catch(() => undefined);
        return;
      }
      delayMs = d.delayMs;
    }
    this.#log.warn({ strategy_id: e.config.id, reason, delay_ms: delayMs, counts }, 'restarting strategy');
    if (stopFirst) await this.#hosts[e.host]?.stopStrategy(e.slot).catch(() => undefined);
    await new Promise<void>((resolve) => {
      e.restartTimer = setTimeout(resolve, delayMs);
      e.restartTimer.unref();
      e.cancelRestart = resolve;
    });
    e.restartTimer = undefined;
    e.cancelRestart = undefined;
    if (superseded()) return;
    const host = this.#hosts[e.host];
    if (host === undefined || host.state !== 'ready') return; // its thread is being replaced: that path restarts it
    e.restarts++;
    // Whatever instance may still sit in the slot (an overlapping restart) goes first: stopStrategy is idempotent.
    await host.stopStrategy(e.slot).catch(() => undefined);
    if (superseded()) return;
    const r = await host.startStrategy(e.slot, e.config, this.#book.get(e.config.id)).catch((err: unknown) => ({ ok: false as const, error: serializeError(err) }));
    if (superseded()) {
      // Removed meanwhile: do not leave this instance behind. (A newer restart
      // stops the slot itself before starting, so it needs nothing from here.)
      if (r.ok && (e.state as StrategyState) === 'stopped' && this.#hosts[e.host] === host) await host.stopStrategy(e.slot).catch(() => undefined);
      return;
    }
    if (!r.ok) {
      e.state = 'running'; // let the next restart decision run
      const rb = e.rollback;
      e.rollback = undefined;
      if (rb !== undefined) {
        // A changed configuration that cannot start: rejected, and the version that ran before runs again.
        const failed = e.config;
        e.config = rb.config;
        this.#rejectUpdate(e, r.error, rb.fields, rb.json);
        this.#log.warn({ strategy_id: failed.id }, 'back to the configuration that ran before the rejected update');
        await this.#restart(e, `configuration update failed to start: [${r.error.code}] ${r.error.message}`, false, false);
        return;
      }
      void this.#restart(e, `restart failed: [${r.error.code}] ${r.error.message}`, true, false);
      return;
    }
    e.rollback = undefined;
    await this.#rewarm(host, [e]);
    if (superseded() || this.#hosts[e.host] !== host || host.state !== 'ready') return;
    // Fills applied while it was starting did not reach the thread: hand over the current portfolio.
    host.sendPortfolio(e.slot, this.#book.get(e.config.id));
    e.state = 'running';
    this.#rebuildRoutes();
    this.#log.info({ strategy_id: e.config.id, restarts: e.restarts }, 'strategy restarted');
  }

  #cancelRestart(e: StrategyEntry): void {
    clearTimeout(e.restartTimer);
    e.restartTimer = undefined;
    const c = e.cancelRestart;
    e.cancelRestart = undefined;
    c?.();
  }

  #quarantine(e: StrategyEntry, reason: string): void {
    e.state = 'quarantined';
    e.quarantineReason = reason;
    this.#rebuildRoutes();
    this.#log.error({ strategy_id: e.config.id, reason }, 'strategy quarantined: it stays down until its configuration changes or an operator resumes it');
  }

  /** Replay the kept recent ticks of the strategies' instruments to them, with no signals. */
  async #rewarm(host: WorkerHost, entries: StrategyEntry[]): Promise<void> {
    const wants = new Map<number, number[]>();
    for (const e of entries) for (const t of new Set(e.config.instruments)) (wants.get(t) ?? wants.set(t, []).get(t)!).push(e.slot);
    const poison = entries.map((e) => e.poison).filter((t): t is Tick => t !== undefined);
    const ticks = this.#history.recent(wants.keys(), poison);
    if (ticks.length === 0) return;
    // In chunks, like live batches: one huge batch could outlast the hang timeout.
    for (let i = 0; i < ticks.length; i += REWARM_CHUNK) {
      const chunk = ticks.slice(i, i + REWARM_CHUNK);
      const routes: number[] = [];
      for (const t of chunk) {
        const slots = wants.get(t.instrument_token)!;
        routes.push(slots.length, ...slots);
      }
      const ok = await host.sendBatch(chunk, routes, true).then(
        () => true,
        (err: unknown) => {
          this.#log.warn({ err }, 're-warm batch failed');
          return false;
        },
      );
      if (!ok) return;
    }
  }

  /** Operator: restart a strategy now (does not count against its restart intensity). */
  async restartStrategy(id: string): Promise<boolean> {
    const e = this.#strategies.get(id);
    if (e === undefined || e.state === 'stopped') return false;
    if (e.state === 'quarantined') return this.resumeStrategy(id);
    await this.#restart(e, 'operator request', false, e.state === 'running');
    return true;
  }

  /** Operator: take a strategy out of quarantine and start it (its restart history is cleared). */
  async resumeStrategy(id: string): Promise<boolean> {
    const e = this.#strategies.get(id);
    if (e === undefined || e.state !== 'quarantined') return false;
    e.recentRestarts = [];
    e.quarantineReason = undefined;
    e.state = 'restarting';
    await this.#restart(e, 'resumed by operator', false, false);
    return true;
  }

  // ------------------------------------------------------------------ hot reload

  /**
   * Apply a new set of configurations while ticks flow. New active ones
   * start (and are re-warmed from recent ticks), deactivated or deleted ones
   * stop after their in-flight ticks (their pending signals are still
   * delivered), changed ones restart with the new configuration (a
   * quarantined strategy whose configuration changes gets a fresh start).
   * Each step swaps in a whole new route table: no tick ever sees a
   * half-built one. Calls are serialised.
   * `invalid`: entries of the source that failed its row schema (their
   * errors name the strategy in `details.strategy_id`). A running strategy
   * whose entry is one of them is not removed: like any update that cannot
   * be applied, it is rejected and the running version keeps running.
   */
  applyConfigs(configs: readonly StrategyConfig[], invalid: readonly RunnerError[] = []): Promise<ReloadReport> {
    const run = this.#applying.then(() => this.#applyConfigs(configs, invalid));
    this.#applying = run.catch(() => undefined);
    return run;
  }

  async #applyConfigs(next: readonly StrategyConfig[], invalid: readonly RunnerError[]): Promise<ReloadReport> {
    const report: ReloadReport = { added: [], removed: [], changed: [], rejected: [] };
    if (this.#state !== 'running') return report;
    const current = [...this.#strategies.values()].filter((e) => e.state !== 'stopped').map((e) => e.config);
    const configs = [...next, ...this.#keepInvalid(next, invalid, report)];
    const diff = diffConfigs(current, configs);
    // Rejected configurations are retried only when they change.
    const added = diff.added.filter((c) => this.#rejectedConfigs.get(c.id) !== JSON.stringify(c));

    for (const c of diff.removed) {
      const e = this.#strategies.get(c.id);
      if (e === undefined) continue;
      e.state = 'stopped';
      e.generation++;
      this.#cancelRestart(e);
      this.#rebuildRoutes();
      await this.#hosts[e.host]?.stopStrategy(e.slot).catch(() => undefined);
      this.#strategies.delete(c.id);
      this.#bySlot.delete(e.slot);
      await this.#retireIdleHost(e.host);
      report.removed.push(c.id);
      this.#log.info({ strategy_id: c.id }, 'strategy removed by a configuration change');
    }

    for (const ch of diff.changed) {
      const e = this.#strategies.get(ch.after.id);
      if (e === undefined) continue;
      const json = JSON.stringify(ch.after);
      if (e.rejectedUpdate?.json === json) continue; // read again (a periodic reload): already reported
      try {
        this.#o.registry.resolve(ch.after);
      } catch (err) {
        // The new configuration is unusable: keep the running version running, and say why.
        this.#rejectUpdate(e, serializeError(err), ch.fields, json, report);
        continue;
      }
      e.rejectedUpdate = undefined;
      const wasRunning = e.state === 'running';
      // A running version is kept to fall back on if the new one does not start (an update still starting keeps its own).
      if (wasRunning) e.rollback = { config: e.rollback?.config ?? e.config, fields: ch.fields, json };
      e.config = ch.after;
      if (e.state === 'quarantined') {
        e.state = 'restarting';
        e.recentRestarts = [];
        e.quarantineReason = undefined;
      }
      report.changed.push(ch.after.id);
      this.#log.info({ strategy_id: ch.after.id, fields: ch.fields, kind: ch.kind }, 'strategy configuration changed: restarting it');
      await this.#restart(e, `configuration changed (${ch.fields.join(', ')})`, false, wasRunning);
      // (Set again by #restart when the new version did not start: TypeScript cannot see that through the await.)
      if ((e.rejectedUpdate as RejectedUpdate | undefined)?.json === json) {
        // It did not start: rejected, and the version before it runs again.
        report.changed.splice(report.changed.indexOf(ch.after.id), 1);
        report.rejected.push(ch.after.id);
      }
    }

    for (const c of added) {
      try {
        this.#o.registry.resolve(c);
      } catch (err) {
        this.#reject(c.id, err);
        this.#rejectedConfigs.set(c.id, JSON.stringify(c));
        report.rejected.push(c.id);
        continue;
      }
      const index = await this.#hostForNewStrategy();
      if (index === undefined) {
        this.#reject(c.id, new RunnerError('WORKER_EXITED', `no thread could be started for strategy '${c.id}'`));
        report.rejected.push(c.id);
        continue;
      }
      const e = await this.#startOn(c, index);
      if (e === undefined) {
        report.rejected.push(c.id);
        continue;
      }
      this.#rejected = this.#rejected.filter((r) => r.strategyId !== c.id);
      this.#rejectedConfigs.delete(c.id);
      e.state = 'restarting';
      await this.#rewarm(this.#hosts[index]!, [e]);
      if (e.state === 'restarting') e.state = 'running';
      this.#rebuildRoutes();
      report.added.push(c.id);
      this.#log.info({ strategy_id: c.id, thread: index }, 'strategy added by a configuration change');
    }
    // The source holds what runs again: no update is pending.
    const invalidIds = new Set(invalid.map((err) => err.details['strategy_id']));
    for (const id of diff.unchanged) {
      const e = this.#strategies.get(id);
      if (e !== undefined && !invalidIds.has(id)) e.rejectedUpdate = undefined;
    }
    // Configurations gone from the source are no longer reported as rejected.
    const ids = new Set(configs.filter((c) => c.is_active).map((c) => c.id));
    this.#rejected = this.#rejected.filter((r) => ids.has(r.strategyId));
    for (const id of [...this.#rejectedConfigs.keys()]) if (!ids.has(id)) this.#rejectedConfigs.delete(id);
    return report;
  }

  /**
   * The running configurations of strategies whose entry in the source is
   * there but invalid as a row: they stay as they are (rejected update).
   */
  #keepInvalid(next: readonly StrategyConfig[], invalid: readonly RunnerError[], report: ReloadReport): StrategyConfig[] {
    const kept: StrategyConfig[] = [];
    const valid = new Set(next.map((c) => c.id));
    for (const err of invalid) {
      const id = err.details['strategy_id'];
      if (typeof id !== 'string' || valid.has(id)) continue;
      const e = this.#strategies.get(id);
      if (e === undefined || e.state === 'stopped' || kept.includes(e.config)) continue;
      kept.push(e.config);
      this.#rejectUpdate(e, serializeError(err), ['entry'], `invalid entry: ${err.message}`, report);
    }
    return kept;
  }

  /** Record an update that cannot be applied (once per distinct update): logged, counted, shown in the status. */
  #rejectUpdate(e: StrategyEntry, error: SerializedError, fields: readonly string[], json: string, report?: ReloadReport): void {
    if (e.rejectedUpdate?.json === json) return; // read again (a periodic reload): already reported
    e.rejectedUpdate = { code: error.code, error: error.message, fields, json };
    e.rejectedUpdates++;
    this.#rejectedUpdates++;
    report?.rejected.push(e.config.id);
    this.#log.error(
      { strategy_id: e.config.id, code: error.code, err: error.message, fields, state: e.state },
      'strategy configuration update rejected: the running version keeps running',
    );
  }

  /** One thread per strategy: a new thread. A fixed pool: the least loaded thread (a new one while under the pool size). */
  async #hostForNewStrategy(): Promise<number | undefined> {
    const load = new Map<number, number>();
    for (const h of this.threads) if (h.state === 'ready') load.set(h.index, 0);
    for (const e of this.#strategies.values()) if (e.state !== 'stopped' && load.has(e.host)) load.set(e.host, load.get(e.host)! + 1);
    const pool = this.#o.poolSize;
    if (pool !== undefined && load.size >= pool) {
      return [...load.entries()].sort((a, b) => a[1] - b[1] || a[0] - b[0])[0]?.[0];
    }
    const index = this.#hosts.length;
    const host = this.#newHost(index);
    this.#hosts.push(host);
    try {
      await host.start();
      return index;
    } catch (err) {
      this.#log.error({ err, thread: index }, 'new thread failed to start');
      this.#hosts[index] = undefined;
      await host.stop().catch(() => undefined);
      return undefined;
    }
  }

  /** In one-thread-per-strategy mode, a thread left without strategies is stopped. */
  async #retireIdleHost(index: number): Promise<void> {
    if (this.#o.poolSize !== undefined) return;
    if ([...this.#strategies.values()].some((e) => e.host === index && e.state !== 'stopped')) return;
    const host = this.#hosts[index];
    if (host === undefined) return;
    this.#hosts[index] = undefined;
    this.#conflated.delete(index);
    await host.stop().catch(() => undefined);
  }

  // ------------------------------------------------------------------ fills and status

  /**
   * Apply a fill to its strategy's portfolio (here, authoritative) and send it
   * to the strategy's thread, after any ticks already sent to it.
   */
  applyFill(fill: Fill): 'applied' | 'duplicate' | 'unknown-strategy' {
    const entry = this.#strategies.get(fill.strategy_id);
    const next = this.#book.apply(fill);
    if (next === undefined) {
      this.#fills.duplicate++;
      return 'duplicate';
    }
    if (entry === undefined) {
      // Kept: the strategy may start later (or be rejected now and fixed); its portfolio is ready then.
      this.#fills.unknown++;
      return 'unknown-strategy';
    }
    this.#fills.applied++;
    // A strategy its thread took down (event time) still gets its fills: the thread keeps its portfolio for the restart.
    if (entry.state === 'running' || entry.threadDown) this.#hosts[entry.host]?.sendFill(entry.slot, fill, next);
    return 'applied';
  }

  portfolioOf(strategyId: string): Record<string, unknown> {
    return portfolioToJSON(this.#book.get(strategyId));
  }

  /** A full report of threads and strategies; asks every thread for its health (with a deadline). */
  async status(healthTimeoutMs = 1000): Promise<SupervisorStatus> {
    const now = Date.now();
    const hosts = this.threads;
    const healths = await Promise.all(hosts.map((h) => h.health(healthTimeoutMs)));
    const threads: ThreadStatus[] = hosts.map((h, i) => {
      const health = healths[i];
      const slots = new Map<number, SlotHealth>((health?.slots ?? []).map((s) => [s.slot, s]));
      const rec = this.#threadRecords.get(h.index);
      const strategies = [...this.#strategies.values()]
        .filter((e) => e.host === h.index && e.state !== 'stopped')
        .map((e) => {
          const s = slots.get(e.slot);
          return {
            id: e.config.id,
            type: e.config.strategy_type,
            state: e.state,
            instruments: e.config.instruments.length,
            ticks_in: s?.ticksIn ?? null,
            signals_out: s?.signalsOut ?? null,
            errors: s?.errors ?? null,
            consecutive_errors: s?.consecutiveErrors ?? null,
            fills_applied: s?.fillsApplied ?? null,
            last_error: s?.lastError?.message ?? null,
            latency_us: s?.latencyUs ?? null,
            restarts: e.restarts,
            conflated_ticks: e.conflatedTicks,
            slow: this.#slowThreads.has(e.host),
            overload_policy: this.#overloadFor(e.config.id).policy,
            behind_ms: h.behindMs(now),
            behind_episodes: e.behindEpisodes,
            missed_ticks: e.missedTicks,
            rejected_update: e.rejectedUpdate === undefined ? null : { code: e.rejectedUpdate.code, error: e.rejectedUpdate.error, fields: e.rejectedUpdate.fields },
            rejected_updates: e.rejectedUpdates,
            last_restart_reason: e.lastRestartReason ?? null,
            quarantine_reason: e.quarantineReason ?? null,
            portfolio: portfolioToJSON(this.#book.get(e.config.id)),
          };
        });
      const sum = (f: (s: SlotHealth) => number): number | null => (health === undefined ? null : health.slots.reduce((a, s) => a + f(s), 0));
      return {
        thread: h.index,
        thread_id: h.threadId,
        state: h.state === 'ready' && health === undefined ? 'unresponsive' : h.state,
        strategies,
        ticks_in: sum((s) => s.ticksIn),
        signals_out: sum((s) => s.signalsOut),
        errors: sum((s) => s.errors),
        queue_depth: h.queueDepth,
        last_heartbeat_age_ms: h.lastHeartbeatAt === 0 ? null : now - h.lastHeartbeatAt,
        heap_used_bytes: health?.heapUsed ?? (h.heapUsed || null),
        heap_total_bytes: health?.heapTotal ?? null,
        restarts: rec?.restarts ?? 0,
        last_failure: rec?.lastFailure ?? null,
        failure: h.failure?.message ?? null,
      };
    });
    return {
      state: this.#state,
      threads,
      rejected: this.#rejected.map((r) => ({ id: r.strategyId, code: r.error.code, error: r.error.message })),
      totals: {
        rounds: this.#rounds,
        ticks: this.#ticks,
        unrouted_ticks: this.#unrouted,
        signals: this.#signals,
        tick_errors: this.#tickErrors,
        dropped_ticks: this.#droppedTicks,
        conflated_ticks: this.#conflatedTicks,
        behind_episodes: this.#behindEpisodes,
        /** threads that ended unexpectedly (each replaced), retired threads included: only grows */
        thread_failures: [...this.#threadRecords.values()].reduce((n, r) => n + r.restarts, 0),
        rejected_updates: this.#rejectedUpdates,
        fills_applied: this.#fills.applied,
        fills_duplicate: this.#fills.duplicate,
        fills_unknown_strategy: this.#fills.unknown,
      },
      routing: { instruments: this.#routes.instrumentCount, strategies: this.#routes.strategyCount },
    };
  }

  /** Stop every thread (strategies' onStop run), each within the deadline. Idempotent. */
  stop(deadlineMs = 5000): Promise<void> {
    this.#stopping ??= (async () => {
      this.#state = 'stopping';
      clearInterval(this.#watchdog);
      for (const e of this.#strategies.values()) {
        e.generation++;
        this.#cancelRestart(e);
      }
      const results = await Promise.allSettled(this.threads.map((h) => h.stop(deadlineMs)));
      for (const r of results) if (r.status === 'rejected') this.#log.warn({ err: r.reason }, 'thread stop failed');
      for (const e of this.#strategies.values()) e.state = 'stopped';
      this.#state = 'stopped';
      this.#log.info('supervisor stopped');
    })();
    return this.#stopping;
  }
}

export interface ThreadStatus {
  thread: number;
  thread_id: number;
  state: HostState | 'unresponsive';
  strategies: Record<string, unknown>[];
  ticks_in: number | null;
  signals_out: number | null;
  errors: number | null;
  queue_depth: number;
  last_heartbeat_age_ms: number | null;
  heap_used_bytes: number | null;
  /** the thread's committed V8 heap (young generation included): most of a thread's resident memory */
  heap_total_bytes: number | null;
  restarts: number;
  last_failure: string | null;
  failure: string | null;
}

export interface ReloadReport {
  added: string[];
  removed: string[];
  changed: string[];
  rejected: string[];
}

export interface SupervisorStatus {
  state: SupervisorState;
  threads: ThreadStatus[];
  rejected: { id: string; code: string; error: string }[];
  totals: Record<string, number>;
  routing: { instruments: number; strategies: number };
}
