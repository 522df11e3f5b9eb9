import { describe, expect, it } from 'vitest';
import type { Tick } from '../../../src/domain/tick.js';
import { TickHistory } from '../../../src/supervision/tick-history.js';

const t = (token: number, ts: number): Tick => ({ instrument_token: token, last_price: 100, timestamp: ts });

describe('TickHistory', () => {
  it('keeps the last N ticks per instrument and merges instruments in arrival order', () => {
    const h = new TickHistory(2);
    const seq = [t(1, 1), t(2, 2), t(1, 3), t(1, 4), t(3, 5), t(2, 6)];
    for (const x of seq) h.record(x);
    expect(h.recent([1]).map((x) => x.timestamp)).toEqual([3, 4]);
    expect(h.recent([2, 1]).map((x) => x.timestamp)).toEqual([2, 3, 4, 6]);
    expect(h.recent([9])).toEqual([]);
    // the same objects, not copies (the supervisor recognises a poison tick by identity)
    expect(h.recent([3])[0]).toBe(seq[4]);
  });

  it('keeps nothing with a size of 0', () => {
    const h = new TickHistory(0);
    h.record(t(1, 1));
    expect(h.recent([1])).toEqual([]);
  });
});
