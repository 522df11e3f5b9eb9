import type { SupervisorContext } from '../supervision/supervisor-context.js';
import { overloadFor, type OverloadSetting } from '../supervision/supervision-options.js';
import type { WorkerHost } from '../supervision/worker-host.js';

export type ThreadOverload = OverloadSetting & { ids: string[] };

/** Per thread: `hold` if any of its strategies holds; behind past the longest of their bounds. */
export function threadOverload(
  entries: Iterable<{ readonly config: { readonly id: string }; readonly host: number; readonly state: string }>,
  settingOf: (id: string) => OverloadSetting,
): Map<number, ThreadOverload> {
  const m = new Map<number, ThreadOverload>();
  for (const e of entries) {
    if (e.state === 'stopped') continue;
    const own = settingOf(e.config.id);
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
 * Live dispatch capacity and overload: which threads are full, behind
 * (episodes counted and logged once), and conflated (policy `conflate`,
 * behind while another thread has room) until they have caught up.
 */
export class OverloadMonitor {
  readonly #ctx: SupervisorContext;
  readonly #hosts: () => readonly (WorkerHost | undefined)[];
  /** does a thread have conflated ticks waiting */
  readonly #hasConflated: (h: number) => boolean;
  /** threads being conflated (policy conflate, found behind while another had room) */
  readonly slowThreads = new Set<number>();
  /** threads in a behind episode (counted and logged once per episode) */
  readonly behindThreads = new Set<number>();
  /** per thread: the overload setting its strategies give it (rebuilt with the routes) */
  #overloadOf = new Map<number, ThreadOverload>();
  #capacityWaiters: (() => void)[] = [];

  constructor(ctx: SupervisorContext, hosts: () => readonly (WorkerHost | undefined)[], hasConflated: (h: number) => boolean) {
    this.#ctx = ctx;
    this.#hosts = hosts;
    this.#hasConflated = hasConflated;
  }

  /** The overload setting of one strategy: the configured default with its own overrides. */
  settingOf(id: string): OverloadSetting {
    return overloadFor(this.#ctx.sup.overload, id);
  }

  /** Recompute the per-thread settings (with every route change). */
  rebuild(): void {
    this.#overloadOf = threadOverload(this.#ctx.strategies.values(), (id) => this.settingOf(id));
  }

  /** A thread failed or was replaced: it starts again with no overload marks. */
  forget(h: number): void {
    this.behindThreads.delete(h);
    this.slowThreads.delete(h);
  }

  /** See Supervisor.capacity(). */
  capacity(): Promise<void> | undefined {
    // The common case costs no promise: there is room.
    if (this.#ctx.life.state !== 'running' || this.hasCapacity(Date.now())) return undefined;
    return this.#waitCapacity();
  }

  async #waitCapacity(): Promise<void> {
    // Woken by every answer; the timer only notices a thread crossing its bound while it answers nothing.
    const pollMs = Math.max(10, Math.min(250, this.#ctx.sup.overload.behindAfterMs / 4));
    while (this.#ctx.life.is('running') && !this.hasCapacity(Date.now())) {
      await new Promise<void>((resolve) => {
        this.#capacityWaiters.push(resolve);
        setTimeout(resolve, pollMs).unref();
      });
    }
  }

  hasCapacity(now: number): boolean {
    const max = this.#ctx.sup.maxQueuedBatches;
    const log = this.#ctx.log;
    let anyRoom = false;
    let full: WorkerHost[] | undefined;
    for (const host of this.#hosts()) {
      if (host === undefined || host.state !== 'ready') continue;
      const h = host.index;
      // An episode ends when the thread catches up: its busy period, and so behindMs, starts again from 0.
      if (this.behindThreads.has(h) && !this.slowThreads.has(h) && host.behindMs(now) <= (this.#overloadOf.get(h)?.behindAfterMs ?? 0)) this.behindThreads.delete(h);
      if (host.queueDepth < max) {
        anyRoom = true;
        if (this.slowThreads.has(h) && host.queueDepth === 0 && !this.#hasConflated(h)) {
          this.slowThreads.delete(h);
          this.behindThreads.delete(h);
          log.info({ thread: h, strategies: this.#overloadOf.get(h)?.ids ?? [] }, 'thread caught up: no longer conflating its ticks');
        }
      } else if (!this.slowThreads.has(h)) (full ??= []).push(host);
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
      if (!this.behindThreads.has(h)) {
        this.behindThreads.add(h);
        this.#ctx.totals.behindEpisodes++;
        for (const id of o.ids) {
          const e = this.#ctx.strategies.get(id);
          if (e !== undefined) e.behindEpisodes++;
        }
        if (o.policy === 'hold') log.warn(fields, 'strategy thread is behind: holding the input back for it (overload policy "hold")');
        else if (!shed) log.warn(fields, 'strategy thread is behind and no other thread has room: the input waits');
      }
      if (shed) {
        this.slowThreads.add(h);
        log.warn(fields, 'strategy thread is behind: conflating its ticks (newest per instrument) so it does not hold the others back');
      } else ok = false;
    }
    return ok;
  }

  /** A thread answered (or failed a batch): whoever waits for capacity looks again. */
  notify(): void {
    const w = this.#capacityWaiters;
    this.#capacityWaiters = [];
    for (const r of w) r();
  }
}
