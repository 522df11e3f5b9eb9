import { portfolioToJSON } from '../domain/portfolio.js';
import type { Dispatcher } from '../dispatch/dispatcher.js';
import type { SlotHealth } from '../protocol/messages.js';
import type { Router } from '../routing/router.js';
import type { SupervisorStatus, ThreadStatus } from './reports.js';
import type { StrategyEntry } from './strategy-entry.js';
import type { SupervisorContext } from './supervisor-context.js';
import type { ThreadPool } from './thread-pool.js';

/** The status document: every thread (asked for its health, with a deadline), its strategies, the totals. */
export class StatusBuilder {
  readonly #ctx: SupervisorContext;
  readonly #pool: ThreadPool;
  readonly #router: Router<StrategyEntry>;
  readonly #dispatcher: Dispatcher;

  constructor(ctx: SupervisorContext, pool: ThreadPool, router: Router<StrategyEntry>, dispatcher: Dispatcher) {
    this.#ctx = ctx;
    this.#pool = pool;
    this.#router = router;
    this.#dispatcher = dispatcher;
  }

  async build(healthTimeoutMs: number): Promise<SupervisorStatus> {
    const { strategies: table, totals: t, book } = this.#ctx;
    const overload = this.#dispatcher.overload;
    const now = Date.now();
    const hosts = this.#pool.threads;
    const healths = await Promise.all(hosts.map((h) => h.health(healthTimeoutMs)));
    const threads: ThreadStatus[] = hosts.map((h, i) => {
      const health = healths[i];
      const slots = new Map<number, SlotHealth>((health?.slots ?? []).map((s) => [s.slot, s]));
      const rec = this.#pool.records.get(h.index);
      const strategies = [...table.values()]
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
            slow: overload.slowThreads.has(e.host),
            overload_policy: overload.settingOf(e.config.id).policy,
            behind_ms: h.behindMs(now),
            behind_episodes: e.behindEpisodes,
            missed_ticks: e.missedTicks,
            rejected_update: e.rejectedUpdate === undefined ? null : { code: e.rejectedUpdate.code, error: e.rejectedUpdate.error, fields: e.rejectedUpdate.fields },
            rejected_updates: e.rejectedUpdates,
            last_restart_reason: e.lastRestartReason ?? null,
            quarantine_reason: e.quarantineReason ?? null,
            portfolio: portfolioToJSON(book.get(e.config.id)),
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
      state: this.#ctx.life.state,
      threads,
      rejected: table.rejected.map((r) => ({ id: r.strategyId, code: r.error.code, error: r.error.message })),
      totals: {
        rounds: t.rounds,
        ticks: t.ticks,
        unrouted_ticks: t.unrouted,
        signals: t.signals,
        tick_errors: t.tickErrors,
        dropped_ticks: t.droppedTicks,
        conflated_ticks: t.conflatedTicks,
        behind_episodes: t.behindEpisodes,
        /** threads that ended unexpectedly (each replaced), retired threads included: only grows */
        thread_failures: [...this.#pool.records.values()].reduce((n, r) => n + r.restarts, 0),
        rejected_updates: t.rejectedUpdates,
        fills_applied: t.fillsApplied,
        fills_duplicate: t.fillsDuplicate,
        fills_unknown_strategy: t.fillsUnknown,
      },
      routing: { instruments: this.#router.table.instrumentCount, strategies: this.#router.table.strategyCount },
    };
  }
}
