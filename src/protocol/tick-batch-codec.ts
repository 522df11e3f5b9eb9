/**
 * The wire form of a tick batch between the supervisor and a strategy
 * thread. Structured-cloning an array of tick objects costs more than
 * everything else on the hot path (every property name and value is
 * serialised and rebuilt), so the four fields every tick has travel as one
 * Float64Array (a row of TICK_STRIDE numbers per tick) and the routes as an
 * Int32Array: cloning those is a memcpy. (Transferring them instead costs
 * more at these sizes: 6 µs against 2.7 µs per post of a 512-tick batch.)
 * A tick with any other field travels whole, beside the columns, so nothing
 * a strategy could read is lost.
 *
 * Every column value is exact as a double: instrument_token is a safe
 * integer, timestamp is epoch ms (decoded ticks carry it as a number), price
 * and volume are numbers. An absent volume is NaN (a decoded tick's volume is
 * never NaN: the decoder rejects it).
 */
import type { Tick } from '../domain/tick.js';

/**
 * The one row layout of a tick, for every place that keeps ticks as numbers
 * (a batch on the wire, the re-warm history): the column of each core field.
 * Only writeRow() writes a row and only tickFromRow() reads one.
 */
export const TICK_COLUMNS = { instrument_token: 0, last_price: 1, timestamp: 2, volume: 3 } as const;

/** Doubles per tick row: instrument_token, last_price, timestamp, volume (NaN = absent). */
export const TICK_STRIDE = 4;

export interface EncodedTickBatch {
  /** ticks.length × TICK_STRIDE doubles */
  readonly cols: Float64Array;
  /** For tick i, a count n followed by the n local slot numbers that want it. */
  readonly routes: Int32Array;
  /** Ticks that carry more than the four fields, whole: `extra[k]` is tick `extraAt[k]`. */
  readonly extraAt?: readonly number[];
  readonly extra?: readonly Tick[];
}

/** Does this tick hold exactly instrument_token, last_price, timestamp and (optionally) volume? */
export function hasOnlyCoreFields(t: Tick): boolean {
  let n = 0;
  for (const _ in t) n++;
  return n === (t.volume === undefined ? 3 : 4) && typeof t.timestamp === 'number';
}

/** Encode a batch for postMessage. */
export function encodeTickBatch(ticks: readonly Tick[], routes: ArrayLike<number>): EncodedTickBatch {
  const cols = new Float64Array(ticks.length * TICK_STRIDE);
  let extraAt: number[] | undefined;
  let extra: Tick[] | undefined;
  for (let i = 0, o = 0; i < ticks.length; i++, o += TICK_STRIDE) {
    const t = ticks[i]!;
    if (!hasOnlyCoreFields(t)) {
      (extraAt ??= []).push(i);
      (extra ??= []).push(t);
      continue;
    }
    writeRow(cols, o, t);
  }
  const r = Int32Array.from(routes);
  return extraAt === undefined ? { cols, routes: r } : { cols, routes: r, extraAt, extra: extra! };
}

/** Rebuild the ticks of an encoded batch, in order. */
export function decodeTickBatch(b: Pick<EncodedTickBatch, 'cols' | 'extraAt' | 'extra'>): Tick[] {
  const { cols } = b;
  const n = cols.length / TICK_STRIDE;
  const out: Tick[] = new Array(n);
  for (let i = 0, o = 0; i < n; i++, o += TICK_STRIDE) out[i] = tickFromRow(cols, o);
  const at = b.extraAt;
  if (at !== undefined) for (let k = 0; k < at.length; k++) out[at[k]!] = b.extra![k]!;
  return out;
}

/** Ticks in an encoded batch. */
export function batchLength(b: Pick<EncodedTickBatch, 'cols'>): number {
  return b.cols.length / TICK_STRIDE;
}

/** Tick `i` of an encoded batch (a copy for a core-fields tick, the tick itself for one kept whole). */
export function tickAt(b: Pick<EncodedTickBatch, 'cols' | 'extraAt' | 'extra'>, i: number): Tick {
  const k = b.extraAt === undefined ? -1 : b.extraAt.indexOf(i);
  return k >= 0 ? b.extra![k]! : tickFromRow(b.cols, i * TICK_STRIDE);
}

/** Write a core-fields-only tick as the row starting at `o`. */
export function writeRow(cols: Float64Array, o: number, t: Tick): void {
  // Literal offsets (TICK_COLUMNS, checked by the codec's tests): the hot path indexes with constants.
  cols[o] = t.instrument_token;
  cols[o + 1] = t.last_price;
  cols[o + 2] = t.timestamp;
  cols[o + 3] = t.volume === undefined ? NaN : t.volume;
}

/** The tick in the row starting at `o`. */
export function tickFromRow(cols: Float64Array, o: number): Tick {
  const volume = cols[o + 3]!;
  // One shape for every tick with a volume, one for every tick without: the strategies' call sites stay monomorphic.
  return volume === volume
    ? { instrument_token: cols[o]!, last_price: cols[o + 1]!, timestamp: cols[o + 2]!, volume }
    : { instrument_token: cols[o]!, last_price: cols[o + 1]!, timestamp: cols[o + 2]! };
}
