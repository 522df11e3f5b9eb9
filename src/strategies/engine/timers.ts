import { RunnerError } from '../../errors.js';
import { parseDuration } from './duration.js';

/** What `ctx.schedule()` takes: a one-off time, or a period aligned to the epoch. */
export type TimerSpec =
  | { readonly at: number; readonly name?: string; readonly instrument?: number }
  | { readonly every: number | string; readonly name?: string; readonly instrument?: number };

/** A timer as `onTimer` sees it. `at` is the occurrence being fired (event time, epoch ms). */
export interface Timer {
  readonly id: number;
  readonly name: string;
  readonly at: number;
  /** the period of a repeating timer, ms */
  readonly every?: number;
  /** the instrument its signals are priced on */
  readonly instrument?: number;
}

/** Timers as plain data (see TimerQueue.state). */
export interface TimerQueueState {
  readonly seq: number;
  readonly entries: [id: number, name: string, at: number | null, every: number | null, instrument: number | null][];
}

interface Entry {
  id: number;
  name: string;
  at: number;
  every: number | undefined;
  instrument: number | undefined;
  cancelled: boolean;
}

/**
 * A strategy's timers, by event time. A one-off timer fires once when the
 * strategy's clock reaches `at`; a repeating one at every multiple of
 * `every` since the epoch after the clock at scheduling, each occurrence
 * once (a gap in the ticks fires every occurrence it passed, in order). A
 * repeating timer scheduled before the strategy's first tick (in create or
 * onStart) is anchored at that tick: its first occurrence is the first
 * multiple after it (until then its `at` is NaN).
 * Timers due together fire in `at` order, then in the order they were
 * scheduled. A binary heap: O(log n) per schedule and per firing.
 */
export class TimerQueue {
  readonly #heap: Entry[] = [];
  readonly #byId = new Map<number, Entry>();
  /** repeating timers scheduled before the first tick, waiting for anchor() */
  #unanchored: Entry[] = [];
  #seq = 0;

  get size(): number {
    return this.#byId.size;
  }

  /** The time of the next live timer, or Infinity. */
  next(): number {
    this.#dropCancelled();
    return this.#heap.length === 0 ? Infinity : this.#heap[0]!.at;
  }

  /** `now`: the strategy's clock, undefined before its first tick. */
  schedule(spec: TimerSpec, now: number | undefined, strategyId: string): Timer {
    if (typeof spec !== 'object' || spec === null) throw invalid(strategyId, 'schedule() takes { at } or { every }');
    const name = spec.name ?? `timer-${this.#seq + 1}`;
    if (typeof name !== 'string' || name.length === 0) throw invalid(strategyId, 'a timer name must be a non-empty string');
    const instrument = spec.instrument;
    if (instrument !== undefined && !Number.isInteger(instrument)) throw invalid(strategyId, `timer '${name}': instrument must be an instrument token, got ${String(instrument)}`);
    let at: number;
    let every: number | undefined;
    if ('every' in spec && spec.every !== undefined) {
      every = typeof spec.every === 'string' ? parseDuration(spec.every) : spec.every;
      if (every === undefined || !Number.isInteger(every) || every <= 0) throw invalid(strategyId, `timer '${name}': every must be a whole number of ms > 0 or a duration like '30s', got ${JSON.stringify(spec.every)}`);
      at = now === undefined ? Number.NaN : nextMultiple(now, every);
    } else if ('at' in spec && typeof spec.at === 'number' && Number.isFinite(spec.at)) {
      at = spec.at;
    } else {
      throw invalid(strategyId, `timer '${name}': give { at: epochMs } or { every: ms | '1m' }`);
    }
    const e: Entry = { id: ++this.#seq, name, at, every, instrument, cancelled: false };
    this.#byId.set(e.id, e);
    if (Number.isNaN(at)) this.#unanchored.push(e);
    else this.#push(e);
    return view(e, at);
  }

  /** The strategy's first tick is at `now`: repeating timers scheduled before it start from there. */
  anchor(now: number): void {
    if (this.#unanchored.length === 0) return;
    for (const e of this.#unanchored) {
      if (e.cancelled) continue;
      e.at = nextMultiple(now, e.every!);
      this.#push(e);
    }
    this.#unanchored = [];
  }

  cancel(id: number): boolean {
    const e = this.#byId.get(id);
    if (e === undefined) return false;
    e.cancelled = true;
    this.#byId.delete(id);
    return true;
  }

  /** The next occurrence due at or before `t`, or undefined; a repeating timer is re-armed for its next one. */
  pop(t: number): Timer | undefined {
    this.#dropCancelled();
    const top = this.#heap[0];
    if (top === undefined || top.at > t) return undefined;
    const fired = view(top, top.at);
    this.#popTop();
    if (top.every !== undefined) {
      top.at += top.every;
      this.#push(top);
    } else {
      this.#byId.delete(top.id);
    }
    return fired;
  }

  /** The live timers as plain data (a snapshot): [id, name, at (null: not anchored yet), every, instrument], and the id sequence. */
  state(): TimerQueueState {
    const entries: TimerQueueState['entries'] = [];
    for (const e of this.#byId.values()) entries.push([e.id, e.name, Number.isNaN(e.at) ? null : e.at, e.every ?? null, e.instrument ?? null]);
    entries.sort((a, b) => a[0] - b[0]);
    return { seq: this.#seq, entries };
  }

  /** Replace every timer with those of a snapshot. */
  restore(st: TimerQueueState): void {
    this.clear();
    this.#seq = st.seq;
    for (const [id, name, at, every, instrument] of st.entries) {
      const e: Entry = { id, name, at: at ?? Number.NaN, every: every ?? undefined, instrument: instrument ?? undefined, cancelled: false };
      this.#byId.set(id, e);
      if (at === null) this.#unanchored.push(e);
      else this.#push(e);
    }
  }

  clear(): void {
    this.#heap.length = 0;
    this.#unanchored = [];
    this.#byId.clear();
  }

  #dropCancelled(): void {
    while (this.#heap.length > 0 && this.#heap[0]!.cancelled) this.#popTop();
  }

  #less(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.id < b.id);
  }

  #push(e: Entry): void {
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  #popTop(): void {
    const h = this.#heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.#less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.#less(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}

function nextMultiple(now: number, every: number): number {
  return (Math.floor(now / every) + 1) * every;
}

function view(e: Entry, at: number): Timer {
  const t: { -readonly [K in keyof Timer]: Timer[K] } = { id: e.id, name: e.name, at };
  if (e.every !== undefined) t.every = e.every;
  if (e.instrument !== undefined) t.instrument = e.instrument;
  return Object.freeze(t);
}

function invalid(strategyId: string, message: string): RunnerError {
  return new RunnerError('STRATEGY_OUTPUT_INVALID', `strategy '${strategyId}': ${message}`, { details: { strategy_id: strategyId } });
}
