import type { Tick } from '../domain/tick.js';

/**
 * The last `perInstrument` ticks of every routed instrument, with a global
 * sequence number, so that a restarted strategy can be re-warmed with the
 * ticks it would have seen, in the order it would have seen them. One array
 * write per tick on the main thread; memory is bounded by
 * instruments × perInstrument.
 */
export class TickHistory {
  readonly #per: number;
  readonly #rings = new Map<number, { ticks: Tick[]; seqs: number[]; next: number; size: number }>();
  #seq = 0;

  constructor(perInstrument: number) {
    this.#per = Math.max(0, Math.floor(perInstrument));
  }

  record(tick: Tick): void {
    if (this.#per === 0) return;
    let r = this.#rings.get(tick.instrument_token);
    if (r === undefined) this.#rings.set(tick.instrument_token, (r = { ticks: new Array(this.#per), seqs: new Array(this.#per), next: 0, size: 0 }));
    r.ticks[r.next] = tick;
    r.seqs[r.next] = this.#seq++;
    r.next = (r.next + 1) % this.#per;
    if (r.size < this.#per) r.size++;
  }

  /** The kept ticks of these instruments, merged in arrival order. */
  recent(instruments: Iterable<number>): Tick[] {
    const all: { seq: number; tick: Tick }[] = [];
    for (const token of new Set(instruments)) {
      const r = this.#rings.get(token);
      if (r === undefined) continue;
      for (let k = 0; k < r.size; k++) {
        const i = (r.next - r.size + k + this.#per) % this.#per;
        all.push({ seq: r.seqs[i]!, tick: r.ticks[i]! });
      }
    }
    return all.sort((a, b) => a.seq - b.seq).map((x) => x.tick);
  }
}
