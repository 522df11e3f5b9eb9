import type { Tick } from '../domain/tick.js';
import type { HostBatch } from '../routing/router.js';
import type { SupervisorContext } from '../supervision/supervisor-context.js';
import type { WorkerHost } from '../supervision/worker-host.js';

/**
 * The ticks a saturated thread cannot take now: per thread, slot and
 * instrument the newest one (the replaced ones are counted), sent in
 * arrival order once the thread has room again.
 */
export class Conflation {
  readonly #ctx: SupervisorContext;
  /** per thread: slot → instrument → the newest tick a saturated thread has not taken yet */
  readonly #conflated = new Map<number, Map<number, Map<number, { seq: number; tick: Tick }>>>();
  #seq = 0;

  constructor(ctx: SupervisorContext) {
    this.#ctx = ctx;
  }

  has(h: number): boolean {
    return this.#conflated.has(h);
  }

  /** Drop what waits for a thread (it failed or was retired). */
  delete(h: number): void {
    this.#conflated.delete(h);
  }

  /** Keep the newest tick per (strategy, instrument) of a batch a saturated thread cannot take now. */
  add(h: number, b: HostBatch): void {
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
          const e = this.#ctx.strategies.bySlot(slot);
          if (e !== undefined) e.conflatedTicks++;
          this.#ctx.totals.conflatedTicks++;
        }
        byToken.set(tick.instrument_token, { seq: this.#seq++, tick });
      }
    }
  }

  /**
   * What was conflated for a thread, as one batch in arrival order, once the
   * thread has room again (and taken out); undefined when there is nothing
   * to send or no room. Ticks of strategies no longer running are dropped.
   */
  take(h: number, host: WorkerHost | undefined): HostBatch | undefined {
    const bySlot = this.#conflated.get(h);
    if (bySlot === undefined || host === undefined || host.state !== 'ready' || host.queueDepth >= this.#ctx.sup.maxQueuedBatches) return undefined;
    this.#conflated.delete(h);
    const items: { seq: number; tick: Tick; slot: number }[] = [];
    for (const [slot, byToken] of bySlot) {
      if (this.#ctx.strategies.bySlot(slot)?.state !== 'running') continue;
      for (const { seq, tick } of byToken.values()) items.push({ seq, tick, slot });
    }
    if (items.length === 0) return undefined;
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
    return b;
  }
}
