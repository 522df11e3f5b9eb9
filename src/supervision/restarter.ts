import type { BatchResultMessage } from '../protocol/messages.js';
import { serializeError } from '../errors.js';
import { rejectUpdate } from './rejected-update.js';
import { decideRestart } from './restart-policy.js';
import { rewarm } from './rewarm.js';
import type { StrategyEntry } from './strategy-entry.js';
import type { SupervisorContext } from './supervisor-context.js';
import type { ThreadPool } from './thread-pool.js';
import type { WorkerHost } from './worker-host.js';
import { backoffDelay, type BackoffOptions } from '../timing/backoff.js';
import { sleep } from '../timing/sleep.js';

/** A replacement thread that cannot even start is tried again: 0.5 s, doubling, at most 30 s. */
const REPLACEMENT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000 };

/**
 * Supervision of strategies by the wall clock (live): a strategy that fails
 * is restarted (with back-off, or quarantined when it crash-loops, see
 * restart-policy.ts), re-warmed from recent ticks and put back in the
 * routes; a thread that died or hung is replaced and its strategies moved
 * to the new one. In event time (replay) the threads decide and this
 * mirrors what they report.
 */
export class Restarter {
  readonly #ctx: SupervisorContext;
  readonly #pool: ThreadPool;
  /** a thread failed: forget its overload and conflation state */
  readonly #forgetThread: (index: number) => void;

  constructor(ctx: SupervisorContext, pool: ThreadPool, forgetThread: (index: number) => void) {
    this.#ctx = ctx;
    this.#pool = pool;
    this.#forgetThread = forgetThread;
  }

  /** A strategy failed a tick: `maxConsecutiveErrors` in a row restart it (wall clock only). */
  onTickError(e: StrategyEntry, consecutive: number, error: { code: string; message: string }): void {
    if (this.#ctx.eventTime || e.state !== 'running' || consecutive < this.#ctx.sup.maxConsecutiveErrors) return;
    void this.restart(e, `${consecutive} consecutive errors, last: [${error.code}] ${error.message}`, true);
  }

  /** Event-time supervision: mirror what a thread decided for its strategies (state, counters, log lines). */
  onThreadSupervision(r: BatchResultMessage): void {
    const { strategies, log } = this.#ctx;
    for (const [slot, n] of r.missed ?? []) {
      const e = strategies.bySlot(slot);
      if (e !== undefined) e.missedTicks += n;
    }
    for (const ev of r.supervision ?? []) {
      const e = strategies.bySlot(ev.slot);
      if (e === undefined || e.state === 'stopped') continue;
      e.restarts = ev.restarts;
      const fields = { strategy_id: e.config.id, reason: ev.reason, restarts: ev.restarts, clock: 'event' };
      if (ev.kind === 'restarted') {
        e.life.to('running');
        e.threadDown = false;
        log.info(fields, 'strategy restarted');
      } else if (ev.kind === 'retired') {
        e.life.to('restarting');
        e.threadDown = true;
        e.lastRestartReason = ev.reason;
        log.warn({ ...fields, delay_ms: ev.delayMs, resume_at: ev.resumeAt }, 'restarting strategy');
      } else {
        e.life.to('quarantined');
        e.threadDown = true;
        e.quarantineReason = ev.reason;
        log.error(fields, 'strategy quarantined: it stays down until its configuration changes or an operator resumes it');
      }
    }
  }

  /**
   * A thread ended (crash, heap limit, process.exit in a strategy) or was
   * terminated (hung). Replace it and restart its strategies: the one that was
   * running when it ended counts a restart (with back-off and quarantine); the
   * others on the thread are restarted at once, and their status says why.
   */
  async onThreadFailure(host: WorkerHost, error: Error): Promise<void> {
    const ctx = this.#ctx;
    const pool = this.#pool;
    if (!ctx.life.is('running') || pool.host(host.index) !== host) return;
    const index = host.index;
    const rec = pool.record(index);
    rec.restarts++;
    rec.lastFailure = error.message;
    rec.lastFailureAt = Date.now();
    const active = host.lastActive;
    const entries = ctx.strategies.onHost(index);
    const culprit = entries.find((e) => e.slot === active?.slot) ?? (entries.length === 1 ? entries[0] : undefined);
    if (culprit !== undefined && active?.tick !== undefined) culprit.poison = active.tick;
    for (const e of entries) {
      // Whatever restart was under way for these strategies belongs to the dead thread.
      e.supersede();
      if (e.state === 'running') e.life.to('restarting');
      e.threadDown = false;
    }
    ctx.rebuildRoutes();
    this.#forgetThread(index);
    await host.terminate(error).catch(() => {});
    if (!ctx.life.is('running') || pool.host(index) !== host) return; // retired or stopped meanwhile

    const replacement = pool.newHost(index);
    pool.replace(index, replacement);
    try {
      await replacement.start();
    } catch (err) {
      // The thread cannot even start: try again with back-off (its strategies stay `restarting`).
      const delay = backoffDelay(REPLACEMENT_BACKOFF, rec.restarts - 1);
      ctx.log.error({ err, thread: index, retry_in_ms: delay }, 'replacement thread failed to start; retrying');
      setTimeout(() => void this.onThreadFailure(replacement, err instanceof Error ? err : new Error(String(err))), delay).unref();
      return;
    }
    if (!ctx.life.is('running') || pool.host(index) !== replacement) {
      await replacement.stop().catch(() => undefined);
      return;
    }
    for (const e of entries) {
      // Removed by a configuration change while the thread was being replaced: nothing to move.
      if (e.state === 'stopped' || !ctx.strategies.has(e.config.id)) continue;
      e.slot = ctx.strategies.moveSlot(e);
      if (e.state === 'quarantined') continue;
      if (e === culprit) void this.restart(e, `its thread ended: ${error.message}`, true, false);
      else void this.restart(e, `restarted with its thread ${index}, which ended because of ${culprit === undefined ? 'an unknown strategy' : `'${culprit.config.id}'`}: ${error.message}`, false, false);
    }
  }

  /**
   * Restart one strategy on its thread: out of the routes, onStop, start
   * again with its portfolio, re-warm from recent ticks, back in the routes.
   * `counts`: whether this restart counts against the restart intensity (the
   * strategy's own fault) — then it waits for its back-off delay, or is
   * quarantined. `stopFirst`: the old instance is still alive in the thread.
   * A running or restarting strategy (one not already waiting out a back-off) only.
   */
  async restart(e: StrategyEntry, reason: string, counts: boolean, stopFirst = true): Promise<void> {
    if (e.state === 'stopped' || e.state === 'quarantined' || !this.#ctx.life.is('running')) return;
    if (e.state === 'restarting' && e.backoff !== undefined) return; // already scheduled
    await this.#attempt(e, reason, counts, stopFirst);
  }

  /** One restart attempt; a failed start is followed by the next decision, the strategy `restarting` throughout. */
  async #attempt(e: StrategyEntry, reason: string, counts: boolean, stopFirst: boolean): Promise<void> {
    const ctx = this.#ctx;
    const pool = this.#pool;
    const gen = ++e.generation;
    const superseded = (): boolean => e.generation !== gen || e.state !== 'restarting' || !ctx.life.is('running');
    const wasRunning = e.state === 'running' || e.threadDown;
    e.threadDown = false;
    e.life.to('restarting');
    e.lastRestartReason = reason;
    if (wasRunning) ctx.rebuildRoutes();
    let delayMs = 0;
    if (counts) {
      const d = decideRestart(ctx.sup.restart, e.recentRestarts, Date.now());
      if (d.action === 'quarantine') {
        this.#quarantine(e, `${d.recent} restarts within ${ctx.sup.restart.windowMs} ms; last: ${reason}`);
        if (stopFirst) await pool.host(e.host)?.stopStrategy(e.slot).catch(() => undefined);
        return;
      }
      delayMs = d.delayMs;
    }
    ctx.log.warn({ strategy_id: e.config.id, reason, delay_ms: delayMs, counts }, 'restarting strategy');
    if (stopFirst) await pool.host(e.host)?.stopStrategy(e.slot).catch(() => undefined);
    const backoff = (e.backoff = new AbortController());
    await sleep(delayMs, backoff.signal);
    if (e.backoff === backoff) e.backoff = undefined;
    if (superseded()) return;
    const host = pool.host(e.host);
    if (host === undefined || host.state !== 'ready') return; // its thread is being replaced: that path restarts it
    e.restarts++;
    // Whatever instance may still sit in the slot (an overlapping restart) goes first: stopStrategy is idempotent.
    await host.stopStrategy(e.slot).catch(() => undefined);
    if (superseded()) return;
    const snapshots = ctx.options.snapshots;
    const r = await host.startStrategy(e.slot, e.config, ctx.book.get(e.config.id), snapshots?.forStart(e.config)).catch((err: unknown) => ({ ok: false as const, error: serializeError(err) }));
    if (r.ok) snapshots?.used(e.config, r.value);
    if (superseded()) {
      // Removed meanwhile: do not leave this instance behind. (A newer restart
      // stops the slot itself before starting, so it needs nothing from here.)
      if (r.ok && e.state === 'stopped' && pool.host(e.host) === host) await host.stopStrategy(e.slot).catch(() => undefined);
      return;
    }
    if (!r.ok) {
      // Still `restarting`: the next decision is another attempt from here.
      const rb = e.rollback;
      e.rollback = undefined;
      if (rb !== undefined) {
        // A changed configuration that cannot start: rejected, and the version that ran before runs again.
        const failed = e.config;
        e.config = rb.config;
        rejectUpdate(ctx, e, r.error, rb.fields, rb.json);
        ctx.log.warn({ strategy_id: failed.id }, 'back to the configuration that ran before the rejected update');
        await this.#attempt(e, `configuration update failed to start: [${r.error.code}] ${r.error.message}`, false, false);
        return;
      }
      void this.#attempt(e, `restart failed: [${r.error.code}] ${r.error.message}`, true, false);
      return;
    }
    e.rollback = undefined;
    await rewarm(ctx.history, ctx.log, host, [e]);
    if (superseded() || pool.host(e.host) !== host || host.state !== 'ready') return;
    // Fills applied while it was starting did not reach the thread: hand over the current portfolio.
    host.sendPortfolio(e.slot, ctx.book.get(e.config.id));
    e.life.to('running');
    ctx.rebuildRoutes();
    ctx.log.info({ strategy_id: e.config.id, restarts: e.restarts }, 'strategy restarted');
  }

  #quarantine(e: StrategyEntry, reason: string): void {
    e.life.to('quarantined');
    e.quarantineReason = reason;
    this.#ctx.rebuildRoutes();
    this.#ctx.log.error({ strategy_id: e.config.id, reason }, 'strategy quarantined: it stays down until its configuration changes or an operator resumes it');
  }

  /** Take a quarantined strategy out of quarantine (its restart history is cleared): `restarting`, not yet started. */
  static release(e: StrategyEntry): void {
    e.recentRestarts = [];
    e.quarantineReason = undefined;
    e.life.to('restarting');
  }

  /** Operator: restart a strategy now (does not count against its restart intensity). */
  async restartStrategy(e: StrategyEntry | undefined): Promise<boolean> {
    if (e === undefined || e.state === 'stopped') return false;
    if (e.state === 'quarantined') return this.resumeStrategy(e);
    await this.restart(e, 'operator request', false, e.state === 'running');
    return true;
  }

  /** Operator: take a strategy out of quarantine and start it (its restart history is cleared). */
  async resumeStrategy(e: StrategyEntry | undefined): Promise<boolean> {
    if (e === undefined || e.state !== 'quarantined') return false;
    Restarter.release(e);
    await this.restart(e, 'resumed by operator', false, false);
    return true;
  }
}
