import type { StrategyConfig } from '../config/strategy-config.js';
import { RunnerError, serializeError } from '../errors.js';
import { diffConfigs } from './config-diff.js';
import { rejectUpdate } from './rejected-update.js';
import type { ReloadReport } from './reports.js';
import { Restarter } from './restarter.js';
import { rewarm } from './rewarm.js';
import type { RejectedUpdate, StrategyEntry } from './strategy-entry.js';
import type { ControlResult, ParamsUpdate } from '../protocol/messages.js';
import type { SupervisorContext } from './supervisor-context.js';
import type { ThreadPool } from './thread-pool.js';

/** How a set of configurations is applied. */
export interface ApplyOptions {
  /**
   * Re-warm added strategies from the recent ticks the supervisor keeps
   * (default). Off when the caller warms them itself: a shard acquired by a
   * sharded input is warmed from its own position in the topic.
   */
  rewarm?: boolean;
}

/**
 * Configuration reload: the difference between what runs and a new set of
 * configurations becomes removals, restarts with the changed configuration
 * (rolled back to the version before when it does not start) and additions;
 * an update that cannot be applied is rejected and the running version
 * keeps running.
 */
export class ConfigReconciler {
  readonly #ctx: SupervisorContext;
  readonly #pool: ThreadPool;
  readonly #restarter: Restarter;
  #applying: Promise<unknown> = Promise.resolve();

  constructor(ctx: SupervisorContext, pool: ThreadPool, restarter: Restarter) {
    this.#ctx = ctx;
    this.#pool = pool;
    this.#restarter = restarter;
  }

  /** Configurations whose type and parameters resolve; the others are rejected (reported). */
  validate(configs: readonly StrategyConfig[]): StrategyConfig[] {
    const ok: StrategyConfig[] = [];
    for (const c of configs) {
      try {
        this.#ctx.options.registry.resolve(c);
        ok.push(c);
      } catch (err) {
        this.#ctx.strategies.rejectConfig(c, err);
      }
    }
    return ok;
  }

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
  apply(configs: readonly StrategyConfig[], invalid: readonly RunnerError[] = [], options: ApplyOptions = {}): Promise<ReloadReport> {
    const run = this.#applying.then(() => this.#applyConfigs(configs, invalid, options.rewarm !== false));
    this.#applying = run.catch(() => undefined);
    return run;
  }

  async #applyConfigs(next: readonly StrategyConfig[], invalid: readonly RunnerError[], rewarmAdded: boolean): Promise<ReloadReport> {
    const ctx = this.#ctx;
    const { strategies } = ctx;
    const pool = this.#pool;
    const report: ReloadReport = { added: [], removed: [], changed: [], rejected: [] };
    if (!ctx.life.is('running')) return report;
    const current = [...strategies.values()].filter((e) => e.state !== 'stopped').map((e) => e.config);
    const configs = [...next, ...this.#keepInvalid(next, invalid, report)];
    const diff = diffConfigs(current, configs);
    // Rejected configurations are retried only when they change.
    const added = diff.added.filter((c) => strategies.rejectedConfigs.get(c.id) !== JSON.stringify(c));

    for (const c of diff.removed) {
      const e = strategies.get(c.id);
      if (e === undefined) continue;
      e.life.to('stopped');
      e.supersede();
      ctx.rebuildRoutes();
      await pool.host(e.host)?.stopStrategy(e.slot).catch(() => undefined);
      strategies.delete(e);
      await pool.retireIdleHost(e.host);
      report.removed.push(c.id);
      ctx.log.info({ strategy_id: c.id }, 'strategy removed by a configuration change');
    }

    for (const ch of diff.changed) {
      const e = strategies.get(ch.after.id);
      if (e === undefined) continue;
      const json = JSON.stringify(ch.after);
      if (e.rejectedUpdate?.json === json) continue; // read again (a periodic reload): already reported
      try {
        ctx.options.registry.resolve(ch.after);
      } catch (err) {
        // The new configuration is unusable: keep the running version running, and say why.
        rejectUpdate(ctx, e, serializeError(err), ch.fields, json, report);
        continue;
      }
      e.rejectedUpdate = undefined;
      const wasRunning = e.state === 'running';
      if (ch.kind === 'params' && wasRunning && (await this.#paramsLive(e, ch.after))) {
        report.changed.push(ch.after.id);
        continue;
      }
      // A running version is kept to fall back on if the new one does not start (an update still starting keeps its own).
      if (wasRunning) e.rollback = { config: e.rollback?.config ?? e.config, fields: ch.fields, json };
      e.config = ch.after;
      if (e.state === 'quarantined') Restarter.release(e);
      report.changed.push(ch.after.id);
      ctx.log.info({ strategy_id: ch.after.id, fields: ch.fields, kind: ch.kind }, 'strategy configuration changed: restarting it');
      await this.#restarter.restart(e, `configuration changed (${ch.fields.join(', ')})`, false, wasRunning);
      // (Set again by #restart when the new version did not start: TypeScript cannot see that through the await.)
      if ((e.rejectedUpdate as RejectedUpdate | undefined)?.json === json) {
        // It did not start: rejected, and the version before it runs again.
        report.changed.splice(report.changed.indexOf(ch.after.id), 1);
        report.rejected.push(ch.after.id);
      }
    }

    for (const c of added) {
      try {
        ctx.options.registry.resolve(c);
      } catch (err) {
        strategies.rejectConfig(c, err);
        report.rejected.push(c.id);
        continue;
      }
      const index = await pool.hostForNewStrategy();
      if (index === undefined) {
        strategies.reject(c.id, new RunnerError('WORKER_EXITED', `no thread could be started for strategy '${c.id}'`));
        report.rejected.push(c.id);
        continue;
      }
      const e = await pool.startOn(c, index);
      if (e === undefined) {
        report.rejected.push(c.id);
        continue;
      }
      strategies.rejected = strategies.rejected.filter((r) => r.strategyId !== c.id);
      strategies.rejectedConfigs.delete(c.id);
      e.life.to('restarting');
      if (rewarmAdded) await rewarm(ctx.history, ctx.log, pool.host(index)!, [e]);
      if (e.state === 'restarting') e.life.to('running');
      ctx.rebuildRoutes();
      report.added.push(c.id);
      ctx.log.info({ strategy_id: c.id, thread: index }, 'strategy added by a configuration change');
    }
    // The source holds what runs again: no update is pending.
    const invalidIds = new Set(invalid.map((err) => err.details['strategy_id']));
    for (const id of diff.unchanged) {
      const e = strategies.get(id);
      if (e !== undefined && !invalidIds.has(id)) e.rejectedUpdate = undefined;
    }
    // Configurations gone from the source are no longer reported as rejected.
    const ids = new Set(configs.filter((c) => c.is_active).map((c) => c.id));
    strategies.rejected = strategies.rejected.filter((r) => ids.has(r.strategyId));
    for (const id of [...strategies.rejectedConfigs.keys()]) if (!ids.has(id)) strategies.rejectedConfigs.delete(id);
    return report;
  }

  /**
   * Only the parameters changed: a strategy with onParams takes them live and
   * keeps its state. False: it has none, or it refused them (then it is
   * restarted with them, as any change).
   */
  async #paramsLive(e: StrategyEntry, next: StrategyConfig): Promise<boolean> {
    const host = this.#pool.host(e.host);
    if (host === undefined || host.state !== 'ready') return false;
    let r: ControlResult<ParamsUpdate>;
    try {
      r = await host.updateParams(e.slot, next);
    } catch (err) {
      this.#ctx.log.warn({ strategy_id: next.id, err: (err as Error).message }, 'taking parameters live failed: restarting the strategy with them');
      return false;
    }
    if (!r.ok) {
      this.#ctx.log.warn({ strategy_id: next.id, code: r.error.code, err: r.error.message }, 'the strategy refused its new parameters: restarting it with them');
      return false;
    }
    if (r.value !== 'applied') return false;
    e.config = next;
    this.#ctx.log.info({ strategy_id: next.id }, 'strategy parameters changed: taken live by onParams (state kept)');
    return true;
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
      const e = this.#ctx.strategies.get(id);
      if (e === undefined || e.state === 'stopped' || kept.includes(e.config)) continue;
      kept.push(e.config);
      rejectUpdate(this.#ctx, e, serializeError(err), ['entry'], `invalid entry: ${err.message}`, report);
    }
    return kept;
  }
}
