import type { Tick } from '../domain/tick.js';
import { hasOnlyCoreFields, TICK_STRIDE, tickFromRow, writeRow } from '../protocol/tick-batch-codec.js';

interface Ring {
  /** perInstrument rows of TICK_STRIDE doubles (the batch codec's columns) */
  readonly cols: Float64Array;
  readonly seqs: Float64Array;
  /** ticks with more than the core fields, kept whole at their row (allocated on first use) */
  extra: (Tick | undefined)[] | undefined;
  next: number;
  size: number;
}

/**
 * The last `perInstrument` ticks of every routed instrument, with a global
 * sequence number, so that a restarted strategy can be re-warmed with the
 * ticks it would have seen, in the order it would have seen them. Memory is
 * bounded by instruments × perInstrument.
 *
 * Ticks are kept as numbers in typed arrays, not as objects: holding
 * 256 × 1,000 tick objects made every one of them survive the young
 * generation and cost the main thread a third of its time in GC. A tick with
 * extra fields is kept whole.
 */
export class TickHistory {
  readonly #per: number;
  readonly #rings = new Map<number, Ring>();
  #seq = 0;

  constructor(perInstrument: number) {
    this.#per = Math.max(0, Math.floor(perInstrument));
  }

  record(tick: Tick): void {
    if (this.#per === 0) return;
    let r = this.#rings.get(tick.instrument_token);
    if (r === undefined) {
      r = { cols: new Float64Array(this.#per * TICK_STRIDE), seqs: new Float64Array(this.#per), extra: undefined, next: 0, size: 0 };
      this.#rings.set(tick.instrument_token, r);
    }
    const i = r.next;
    if (hasOnlyCoreFields(tick)) {
      writeRow(r.cols, i * TICK_STRIDE, tick);
      if (r.extra !== undefined) r.extra[i] = undefined;
    } else {
      (r.extra ??= new Array<Tick | undefined>(this.#per))[i] = tick;
    }
    r.seqs[i] = this.#seq++;
    r.next = (i + 1) % this.#per;
    if (r.size < this.#per) r.size++;
  }

  /**
   * The kept ticks of these instruments, merged in arrival order, without
   * the ticks equal to one in `skip` (a tick that hung a thread).
   */
  recent(instruments: Iterable<number>, skip: readonly Tick[] = []): Tick[] {
    const all: { seq: number; tick: Tick }[] = [];
    for (const token of new Set(instruments)) {
      const r = this.#rings.get(token);
      if (r === undefined) continue;
      for (let k = 0; k < r.size; k++) {
        const i = (r.next - r.size + k + this.#per) % this.#per;
        const tick = r.extra?.[i] ?? tickFromRow(r.cols, i * TICK_STRIDE);
        if (skip.length > 0 && skip.some((s) => sameTick(s, tick))) continue;
        all.push({ seq: r.seqs[i]!, tick });
      }
    }
    return all.sort((a, b) => a.seq - b.seq).map((x) => x.tick);
  }
}

/** Equal in every core field (a kept tick is a copy of the one recorded). */
function sameTick(a: Tick, b: Tick): boolean {
  return a === b || (a.instrument_token === b.instrument_token && a.timestamp === b.timestamp && a.last_price === b.last_price && a.volume === b.volume);
}
