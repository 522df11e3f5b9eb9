import { describe, expect, it } from 'vitest';
import type { Tick } from '../../../src/domain/tick.js';
import { TickHistory } from '../../../src/supervision/tick-history.js';

const t = (token: number, ts: number, volume?: number): Tick => ({ instrument_token: token, last_price: 100 + ts / 10, timestamp: ts, ...(volume === undefined ? {} : { volume }) });

describe('TickHistory', () => {
  it('keeps the last N ticks per instrument and merges instruments in arrival order', () => {
    const h = new TickHistory(2);
    const seq = [t(1, 1), t(2, 2, 7), t(1, 3), t(1, 4, 0), t(3, 5), t(2, 6)];
    for (const x of seq) h.record(x);
    expect(h.recent([1])).toEqual([seq[2], seq[3]]);
    expect(h.recent([2, 1])).toEqual([seq[1], seq[2], seq[3], seq[5]]);
    expect(h.recent([9])).toEqual([]);
    // kept as numbers: equal copies, with or without volume
    expect(Object.keys(h.recent([3])[0]!)).toEqual(['instrument_token', 'last_price', 'timestamp']);
  });

  it('keeps a tick with extra fields whole, and forgets it when its row is reused', () => {
    const h = new TickHistory(2);
    const rich = { ...t(1, 1), ohlc: { open: 1 } } as Tick;
    h.record(rich);
    h.record(t(1, 2));
    expect(h.recent([1])).toEqual([rich, t(1, 2)]);
    expect(h.recent([1])[0]).toBe(rich);
    h.record(t(1, 3));
    expect(h.recent([1])).toEqual([t(1, 2), t(1, 3)]);
  });

  it('leaves out the ticks equal to a skipped one (the tick that hung a thread)', () => {
    const h = new TickHistory(4);
    for (const x of [t(1, 1), t(1, 2), t(2, 3), t(1, 4)]) h.record(x);
    expect(h.recent([1, 2], [t(1, 2), t(2, 3)])).toEqual([t(1, 1), t(1, 4)]);
    // a different price is a different tick
    expect(h.recent([1], [{ ...t(1, 2), last_price: 1 }])).toHaveLength(3);
  });

  it('keeps nothing with a size of 0', () => {
    const h = new TickHistory(0);
    h.record(t(1, 1));
    expect(h.recent([1])).toEqual([]);
  });
});
