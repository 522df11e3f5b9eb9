import type { StrategyConfig } from '../config/strategy-config.js';
import { Dispatcher, type DispatchOptions } from '../dispatch/dispatcher.js';
import type { Fill } from '../domain/fill.js';
import { PortfolioBook } from '../domain/portfolio-book.js';
import type { Signal } from '../domain/signal.js';
import type { Tick } from '../domain/tick.js';
import { RunnerError, type SerializedError } from '../errors.js';
import { Lifecycle } from '../lifecycle/lifecycle.js';
import type { RouteTable } from '../routing/route-table.js';
import { Router } from '../routing/router.js';
import { ConfigReconciler, type ApplyOptions } from './config-reconciler.js';
import { Fills } from './fills.js';
import { HangWatchdog } from './hang-watchdog.js';
import type { ReloadReport, RoundResult, StartReport, SupervisorStatus } from './reports.js';
import { Restarter } from './restarter.js';
import { SUPERVISOR_TRANSITIONS, type StrategyState, type SupervisorState } from './states.js';
import { StatusBuilder } from './status-builder.js';
import type { StrategyEntry } from './strategy-entry.js';
import { StrategyTable } from './strategy-table.js';
import { compileSupervision, type SupervisorOptions } from './supervision-options.js';
import type { PortfolioJSON } from '../domain/portfolio.js';
import { newTotals, type SupervisorContext, type SupervisorTotals } from './supervisor-context.js';
import { ThreadPool } from './thread-pool.js';
import { TickHistory } from './tick-history.js';
import type { WorkerHost } from './worker-host.js';

// The supervisor's types live beside the parts that use them; callers import them from here.
export type { OverloadOptions, OverloadPolicy, OverloadSetting, SupervisionInput, SupervisionOptions, SupervisorOptions } from './supervision-options.js';
export { DEFAULT_SUPERVISION } from './supervision-options.js';
export type { ReloadReport, RoundResult, StartReport, StrategyRejection, StrategyTickError, SupervisorStatus, ThreadStatus } from './reports.js';
export type { StrategyState, SupervisorState } from './states.js';
export type { SupervisorTotals } from './supervisor-context.js';

/**
 * The main thread's heart: starts the threads, places strategies on them,
 * owns the routing table and the portfolios, sends each dispatch round to the
 * threads that need it and merges what they return into one ordered list.
 * It also supervises: restarts a strategy that keeps failing, replaces a
 * thread that died or hung (restarting its strategies with their portfolios
 * and re-warmed state), backs off and quarantines crash loops.
 *
 * A facade: the parts live in their own modules and share one context —
 * the thread pool (thread-pool.ts), the router (routing/router.ts), the
 * dispatcher with overload and conflation (dispatch/), the restarter and
 * the hang watchdog (restarter.ts, hang-watchdog.ts), the configuration
 * reconciler (config-reconciler.ts), fills (fills.ts) and the status
 * document (status-builder.ts).
 */
/** One strategy's snapshot as its thread took it (or why not). */
export interface TakenSnapshot {
  readonly config: StrategyConfig;
  readonly state: string | undefined;
  readonly instruments: Record<string, [number, number]> | undefined;
  readonly error: SerializedError | undefined;
}

export class Supervisor {
  readonly #life = new Lifecycle<SupervisorState>('supervisor', 'created', SUPERVISOR_TRANSITIONS);
  readonly #ctx: SupervisorContext;
  readonly #router: Router<StrategyEntry>;
  readonly #pool: ThreadPool;
  readonly #dispatcher: Dispatcher;
  readonly #restarter: Restarter;
  readonly #reconciler: ConfigReconciler;
  readonly #fills: Fills;
  readonly #status: StatusBuilder;
  readonly #watchdog: HangWatchdog;
  #stopping: Promise<void> | undefined;

  constructor(options: SupervisorOptions) {
    const sup = compileSupervision(options.supervision);
    const log = options.logger.child({ component: 'supervisor' });
    const history = new TickHistory(sup.rewarmTicks);
    const strategies = new StrategyTable(log);
    const router = new Router<StrategyEntry>(history, { recordUnrouted: options.recordAllTicks === true });
    const ctx: SupervisorContext = {
      options,
      sup,
      log,
      eventTime: options.clock === 'event',
      life: this.#life,
      strategies,
      book: new PortfolioBook(options.initialCash ?? 0),
      history,
      totals: newTotals(),
      rebuildRoutes: () => {
        router.rebuild(strategies.values());
        this.#dispatcher.overload.rebuild();
      },
    };
    this.#ctx = ctx;
    this.#router = router;
    this.#pool = new ThreadPool(ctx, {
      onFailure: (host, error) => void this.#restarter.onThreadFailure(host, error),
      onRetired: (index) => this.#dispatcher.conflation.delete(index),
    });
    this.#restarter = new Restarter(ctx, this.#pool, (index) => this.#dispatcher.forget(index));
    this.#dispatcher = new Dispatcher(ctx, this.#pool, router, {
      onTickError: (entry, consecutive, error) => this.#restarter.onTickError(entry, consecutive, error),
      onThreadSupervision: (r) => this.#restarter.onThreadSupervision(r),
    });
    this.#reconciler = new ConfigReconciler(ctx, this.#pool, this.#restarter);
    this.#fills = new Fills(ctx, this.#pool);
    this.#status = new StatusBuilder(ctx, this.#pool, router, this.#dispatcher);
    this.#watchdog = new HangWatchdog(ctx, () => this.#pool.slots);
  }

  get state(): SupervisorState {
    return this.#life.state;
  }

  get routes(): RouteTable {
    return this.#router.table;
  }

  get threads(): readonly WorkerHost[] {
    return this.#pool.threads;
  }

  /** Whether the hang watchdog is running (only while the supervisor runs). */
  get watchdogRunning(): boolean {
    return this.#watchdog.running;
  }

  /** The state of one strategy (undefined when it is not configured or was rejected). */
  strategyState(id: string): StrategyState | undefined {
    return this.#ctx.strategies.get(id)?.state;
  }

  /**
   * Validate every active configuration on this thread, start the threads, and
   * start each strategy in its thread. A strategy that fails anywhere on the
   * way is reported in `rejected` and the others start regardless. A stop()
   * meanwhile wins: the supervisor ends stopped, with no watchdog running.
   */
  async start(configs: readonly StrategyConfig[]): Promise<StartReport> {
    this.#life.require('start', 'created');
    this.#life.to('starting');
    const { strategies, log } = this.#ctx;
    const inactive = configs.filter((c) => !c.is_active).map((c) => c.id);
    const accepted = this.#reconciler.validate(configs.filter((c) => c.is_active));

    const { threads: n, hostOf, starts } = await this.#pool.startFor(accepted.length);
    await Promise.all(
      accepted.map(async (config, i) => {
        const index = hostOf[i]!;
        const hs = starts[index]!;
        if (hs.status === 'rejected') {
          strategies.reject(config.id, hs.reason);
          return;
        }
        await this.#pool.startOn(config, index);
      }),
    );

    this.#ctx.rebuildRoutes();
    if (this.#life.is('starting')) {
      this.#life.to('running');
      this.#watchdog.start();
    } else {
      // stop() ran meanwhile: what started after it looked is stopped too.
      await this.#stopping;
      for (const e of strategies.values()) e.life.to('stopped');
    }
    const report: StartReport = {
      running: accepted.map((c) => c.id).filter((id) => strategies.get(id)?.state === 'running'),
      rejected: [...strategies.rejected],
      inactive,
      threads: n,
    };
    log.info(
      { running: report.running.length, rejected: report.rejected.length, inactive: inactive.length, threads: n, instruments: this.#router.table.instrumentCount },
      'supervisor started',
    );
    return report;
  }

  /**
   * One dispatch round: route each tick (one Map lookup), build one batch per
   * thread, post them, and merge the answers. Rounds may overlap (the caller
   * pipelines them); each thread answers its batches in order.
   * With `emit: false` (warm-up after a restart) strategies see the ticks and
   * no signals come out.
   */
  dispatch(ticks: readonly Tick[], options: DispatchOptions = {}): Promise<RoundResult> {
    // Per round: a plain comparison first (is() and require() take rest arguments); require() builds the error.
    if (this.#life.state !== 'running') return Promise.reject(this.#stateError('dispatch'));
    return this.#dispatcher.dispatch(ticks, options);
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
  dispatchParts(ticks: readonly Tick[], options: DispatchOptions = {}): { parts: Promise<RoundResult>[]; unrouted: number } {
    if (this.#life.state !== 'running') return { parts: [Promise.reject(this.#stateError('dispatch'))], unrouted: 0 };
    return this.#dispatcher.dispatchParts(ticks, options);
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
    return this.#dispatcher.overload.capacity();
  }

  /** Where signals of conflated ticks (sent when a slow thread catches up) go; they belong to no round. */
  onLateSignals(handler: (signals: Signal[]) => void): void {
    this.#dispatcher.onLateSignals(handler);
  }

  /** What supervision did to a strategy (for summaries; no thread is asked). */
  supervisionOf(id: string): { restarts: number; missedTicks: number; quarantined: boolean } | undefined {
    const e = this.#ctx.strategies.get(id);
    return e === undefined ? undefined : { restarts: e.restarts, missedTicks: e.missedTicks, quarantined: e.quarantineReason !== undefined };
  }

  /** Operator: restart a strategy now (does not count against its restart intensity). */
  restartStrategy(id: string): Promise<boolean> {
    return this.#restarter.restartStrategy(this.#ctx.strategies.get(id));
  }

  /** Operator: take a strategy out of quarantine and start it (its restart history is cleared). */
  resumeStrategy(id: string): Promise<boolean> {
    return this.#restarter.resumeStrategy(this.#ctx.strategies.get(id));
  }

  /**
   * Apply a new set of configurations while ticks flow (see
   * ConfigReconciler): new active ones start (re-warmed from recent ticks),
   * deactivated or deleted ones stop after their in-flight ticks, changed
   * ones restart with the new configuration. Each step swaps in a whole new
   * route table. Calls are serialised. `invalid`: entries of the source that
   * failed its row schema (their errors name the strategy in
   * `details.strategy_id`); a running strategy whose entry is one of them
   * keeps running (a rejected update).
   */
  applyConfigs(configs: readonly StrategyConfig[], invalid: readonly RunnerError[] = [], options: ApplyOptions = {}): Promise<ReloadReport> {
    return this.#reconciler.apply(configs, invalid, options);
  }

  /**
   * Apply a fill to its strategy's portfolio (here, authoritative) and send it
   * to the strategy's thread, after any ticks already sent to it.
   */
  applyFill(fill: Fill): 'applied' | 'duplicate' | 'unknown-strategy' {
    return this.#fills.apply(fill);
  }

  /**
   * A snapshot of every running strategy that has onSave, each taken by its
   * thread after every batch dispatched before this call. A thread that
   * fails meanwhile gives none (its strategies keep their last snapshot).
   */
  async takeSnapshots(): Promise<TakenSnapshot[]> {
    const out: TakenSnapshot[] = [];
    const answers = await Promise.all(this.#pool.threads.map((h) => h.save().catch(() => [])));
    for (const states of answers) {
      for (const st of states) {
        const e = this.#ctx.strategies.bySlot(st.slot);
        if (e === undefined || e.config.id !== st.strategyId || e.state !== 'running') continue;
        out.push({ config: e.config, state: st.state, instruments: st.instruments, error: st.error });
      }
    }
    return out;
  }

  /** A backtest's simulated fill, already applied in its strategy's thread: booked, not sent. */
  bookSimulatedFill(fill: Fill): void {
    this.#fills.book(fill);
  }

  /** What was dispatched and what fills did, since start: the one owner of these counts (the pipeline and /status read them here). */
  get totals(): Readonly<SupervisorTotals> {
    return this.#ctx.totals;
  }

  portfolioOf(strategyId: string): PortfolioJSON {
    return this.#fills.portfolioOf(strategyId);
  }

  /** A full report of threads and strategies; asks every thread for its health (with a deadline). */
  status(healthTimeoutMs = 1000): Promise<SupervisorStatus> {
    return this.#status.build(healthTimeoutMs);
  }

  /** The SUPERVISOR_STATE error of a method that needs `running`. */
  #stateError(what: string): RunnerError {
    try {
      this.#life.require(what, 'running');
    } catch (err) {
      return err as RunnerError;
    }
    return new RunnerError('SUPERVISOR_STATE', `supervisor: ${what}() in state ${this.#life.state}`);
  }

  /** Stop every thread (strategies' onStop run), each within the deadline. Idempotent. */
  stop(deadlineMs = 5000): Promise<void> {
    this.#stopping ??= (async () => {
      this.#life.to('stopping');
      this.#watchdog.stop();
      const { strategies, log } = this.#ctx;
      for (const e of strategies.values()) e.supersede();
      await this.#pool.stopAll(deadlineMs);
      for (const e of strategies.values()) e.life.to('stopped');
      this.#life.to('stopped');
      log.info('supervisor stopped');
    })();
    return this.#stopping;
  }
}
