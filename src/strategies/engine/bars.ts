import { z } from 'zod';
import type { Tick } from '../../domain/tick.js';
import { parseDuration } from './duration.js';

/**
 * A bar declaration in a strategy definition (`bars: [...]`), per
 * instrument: `{ every: '1m' }` (time, aligned to the epoch; `empty: true`
 * also gives bars for intervals without ticks), `{ ticks: 500 }`,
 * `{ volume: 10_000 }`.
 */
export type BarSpec =
  | { readonly every: number | string; readonly empty?: boolean }
  | { readonly ticks: number }
  | { readonly volume: number };

/** A finished bar, as `onBar` sees it. */
export interface Bar {
  readonly instrument_token: number;
  /** the declaration it comes from: '1m', '60000ms', '500t', '10000v' */
  readonly spec: string;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  /** sum of the ticks' `volume` (ticks without one count 0) */
  readonly volume: number;
  /** Σ price × volume / Σ volume; the mean price of its ticks when they carry no volume; the close for an empty bar */
  readonly vwap: number;
  readonly ticks: number;
  /** time bars: the interval [start, end), aligned to the epoch; tick and volume bars: the first and last tick's timestamps */
  readonly start: number;
  readonly end: number;
}

const BarSpecSchema = z.union([
  z.strictObject({
    every: z.union([
      z.number().int().positive(),
      z.string().refine((s) => parseDuration(s) !== undefined, { message: "a duration like '500ms', '30s', '1m', '4h' or '1d'" }),
    ]),
    empty: z.boolean().optional(),
  }),
  z.strictObject({ ticks: z.number().int().positive() }),
  z.strictObject({ volume: z.number().positive().finite() }),
]);

export const BarSpecsSchema = z.array(BarSpecSchema).max(32);

/** A normalised declaration. */
export type BarKind = { kind: 'time'; every: number; empty: boolean; label: string } | { kind: 'ticks'; n: number; label: string } | { kind: 'volume'; v: number; label: string };

export function normaliseBarSpec(spec: BarSpec): BarKind {
  if ('every' in spec) {
    const every = typeof spec.every === 'string' ? parseDuration(spec.every)! : spec.every;
    return { kind: 'time', every, empty: spec.empty === true, label: typeof spec.every === 'string' ? spec.every : `${every}ms` };
  }
  if ('ticks' in spec) return { kind: 'ticks', n: spec.ticks, label: `${spec.ticks}t` };
  return { kind: 'volume', v: spec.volume, label: `${spec.volume}v` };
}

/** One bar being built. */
class Building {
  open = 0;
  high = 0;
  low = 0;
  close = 0;
  volume = 0;
  pv = 0;
  priceSum = 0;
  ticks = 0;
  first = 0;
  last = 0;

  add(t: Tick): void {
    const p = t.last_price;
    const v = t.volume ?? 0;
    if (this.ticks === 0) {
      this.open = this.high = this.low = p;
      this.first = t.timestamp;
    } else {
      if (p > this.high) this.high = p;
      if (p < this.low) this.low = p;
    }
    this.close = p;
    this.volume += v;
    this.pv += p * v;
    this.priceSum += p;
    this.ticks++;
    this.last = t.timestamp;
  }

  bar(instrument: number, spec: string, start: number, end: number): Bar {
    return Object.freeze({
      instrument_token: instrument,
      spec,
      open: this.open,
      high: this.high,
      low: this.low,
      close: this.close,
      volume: this.volume,
      vwap: this.volume > 0 ? this.pv / this.volume : this.priceSum / this.ticks,
      ticks: this.ticks,
      start,
      end,
    });
  }

  state(): number[] {
    return [this.open, this.high, this.low, this.close, this.volume, this.pv, this.priceSum, this.ticks, this.first, this.last];
  }

  restore(v: readonly number[]): void {
    if (v.length !== 10 || v.some((x) => typeof x !== 'number')) throw new Error('a bar in the snapshot is not 10 numbers');
    const n = v as [number, number, number, number, number, number, number, number, number, number];
    [this.open, this.high, this.low, this.close, this.volume, this.pv, this.priceSum, this.ticks, this.first, this.last] = n;
  }

  reset(): void {
    this.ticks = 0;
    this.volume = 0;
    this.pv = 0;
    this.priceSum = 0;
  }
}

function emptyBar(instrument: number, spec: string, close: number, start: number, end: number): Bar {
  return Object.freeze({ instrument_token: instrument, spec, open: close, high: close, low: close, close, volume: 0, vwap: close, ticks: 0, start, end });
}

/**
 * Time bars of one instrument and one period. Without `empty`, an interval
 * without ticks gives no bar and opens nothing: the next tick opens the
 * interval it falls in. With `empty`, every interval after the first tick
 * gives a bar (a tickless one flat at the last close, volume 0).
 */
class TimeBars {
  readonly #instrument: number;
  readonly #k: Extract<BarKind, { kind: 'time' }>;
  readonly #b = new Building();
  /** start of the open interval; NaN when none is open */
  #start = NaN;
  #lastClose = NaN;

  constructor(instrument: number, k: Extract<BarKind, { kind: 'time' }>) {
    this.#instrument = instrument;
    this.#k = k;
  }

  /** The end of the open interval (Infinity when none): it closes when the clock reaches it. */
  get end(): number {
    return Number.isNaN(this.#start) ? Infinity : this.#start + this.#k.every;
  }

  /** Close every interval ending at or before `t`, oldest first. */
  closeUntil(t: number, out: Bar[]): void {
    const every = this.#k.every;
    while (!Number.isNaN(this.#start) && this.#start + every <= t) {
      const end = this.#start + every;
      if (this.#b.ticks > 0) {
        out.push(this.#b.bar(this.#instrument, this.#k.label, this.#start, end));
        this.#lastClose = this.#b.close;
        this.#b.reset();
      } else {
        out.push(emptyBar(this.#instrument, this.#k.label, this.#lastClose, this.#start, end));
      }
      this.#start = this.#k.empty ? end : NaN;
    }
  }

  state(): (number | null)[] {
    return [Number.isNaN(this.#start) ? null : this.#start, Number.isNaN(this.#lastClose) ? null : this.#lastClose, ...this.#b.state()];
  }

  restore(v: readonly (number | null)[]): void {
    this.#start = v[0] ?? Number.NaN;
    this.#lastClose = v[1] ?? Number.NaN;
    this.#b.restore(v.slice(2) as number[]);
  }

  /** `now`: the strategy's clock (this tick's timestamp, or later for a late tick, which joins the open bar). */
  add(tick: Tick, now: number): void {
    if (Number.isNaN(this.#start)) this.#start = Math.floor(now / this.#k.every) * this.#k.every;
    this.#b.add(tick);
  }
}

/** Tick-count and volume bars of one instrument: a bar ends with the tick that completes it. */
class CountBars {
  readonly #instrument: number;
  readonly #k: Extract<BarKind, { kind: 'ticks' | 'volume' }>;
  readonly #b = new Building();

  constructor(instrument: number, k: Extract<BarKind, { kind: 'ticks' | 'volume' }>) {
    this.#instrument = instrument;
    this.#k = k;
  }

  state(): number[] {
    return this.#b.state();
  }

  restore(v: readonly number[]): void {
    this.#b.restore(v);
  }

  add(tick: Tick, out: Bar[]): void {
    this.#b.add(tick);
    const done = this.#k.kind === 'ticks' ? this.#b.ticks >= this.#k.n : this.#b.volume >= this.#k.v;
    if (!done) return;
    out.push(this.#b.bar(this.#instrument, this.#k.label, this.#b.first, this.#b.last));
    this.#b.reset();
  }
}

/**
 * The bars a strategy declared, for each of its instruments, built from its
 * ticks by event time. Per tick: `closeUntil(t)` first (time bars of any
 * instrument whose end the clock has reached, in end order), then `add(tick)`
 * (the tick joins its instrument's bars; a tick or volume bar it completes
 * is finished).
 */
export class BarBook {
  readonly #time: TimeBars[] = [];
  readonly #timeBy = new Map<number, TimeBars[]>();
  readonly #count = new Map<number, CountBars[]>();
  readonly #scratch: Bar[] = [];

  constructor(specs: readonly BarSpec[], instruments: readonly number[]) {
    const kinds = specs.map(normaliseBarSpec);
    for (const inst of instruments) {
      const time: TimeBars[] = [];
      const count: CountBars[] = [];
      for (const k of kinds) {
        if (k.kind === 'time') time.push(new TimeBars(inst, k));
        else count.push(new CountBars(inst, k));
      }
      if (time.length > 0) this.#timeBy.set(inst, time);
      if (count.length > 0) this.#count.set(inst, count);
      this.#time.push(...time);
    }
  }

  /** The bars being built, as plain data (a snapshot), in a fixed order (instrument, then declaration). */
  state(): (number | null)[][] {
    const out: (number | null)[][] = this.#time.map((b) => b.state());
    for (const list of this.#count.values()) for (const b of list) out.push(b.state());
    return out;
  }

  /** Restore what state() gave, for the same declarations and instruments (throws when the shape differs). */
  restore(st: readonly (readonly (number | null)[])[]): void {
    const count = [...this.#count.values()].flat();
    if (st.length !== this.#time.length + count.length) throw new Error(`the snapshot holds ${st.length} bar builders, this strategy has ${this.#time.length + count.length} (its bars or instruments changed)`);
    this.#time.forEach((b, i) => b.restore(st[i]!));
    count.forEach((b, i) => b.restore(st[this.#time.length + i] as number[]));
  }

  get hasTimeBars(): boolean {
    return this.#time.length > 0;
  }

  /** The earliest end among open time bars (Infinity: none). */
  nextEnd(): number {
    let m = Infinity;
    for (const b of this.#time) {
      const e = b.end;
      if (e < m) m = e;
    }
    return m;
  }

  /** Time bars that end at or before t, ordered by end, then instrument order, then declaration order. */
  closeUntil(t: number): Bar[] {
    const out = this.#scratch;
    out.length = 0;
    for (const b of this.#time) b.closeUntil(t, out);
    if (out.length > 1) out.sort((a, b) => a.end - b.end);
    return out;
  }

  /** The tick joins its instrument's bars (`now`: the clock, after this tick); returns the tick and volume bars it completed. */
  add(tick: Tick, now: number): Bar[] {
    const out = this.#scratch;
    out.length = 0;
    const time = this.#timeBy.get(tick.instrument_token);
    if (time !== undefined) for (const b of time) b.add(tick, now);
    const count = this.#count.get(tick.instrument_token);
    if (count !== undefined) for (const b of count) b.add(tick, out);
    return out;
  }
}
