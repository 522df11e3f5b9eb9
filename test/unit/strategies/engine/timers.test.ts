import { describe, it, expect } from 'vitest';
import { TimerQueue } from '../../../../src/strategies/engine/timers.js';
import { parseDuration } from '../../../../src/strategies/engine/duration.js';

function drain(q: TimerQueue, t: number): [string, number][] {
  const out: [string, number][] = [];
  for (let x = q.pop(t); x !== undefined; x = q.pop(t)) out.push([x.name, x.at]);
  return out;
}

describe('TimerQueue', () => {
  it('fires one-off timers in time order, then scheduling order at equal times', () => {
    const q = new TimerQueue();
    q.schedule({ at: 300, name: 'c' }, 0, 's');
    q.schedule({ at: 100, name: 'a' }, 0, 's');
    q.schedule({ at: 300, name: 'd' }, 0, 's');
    q.schedule({ at: 200, name: 'b' }, 0, 's');
    expect(drain(q, 250)).toEqual([['a', 100], ['b', 200]]);
    expect(drain(q, 1000)).toEqual([['c', 300], ['d', 300]]);
    expect(q.size).toBe(0);
  });

  it('a repeating timer fires at every multiple of its period after the clock, each occurrence once', () => {
    const q = new TimerQueue();
    q.schedule({ every: '1s', name: 'tick' }, 1_500, 's');
    expect(q.next()).toBe(2_000);
    // a gap: every occurrence passed fires, in order
    expect(drain(q, 4_999)).toEqual([['tick', 2_000], ['tick', 3_000], ['tick', 4_000]]);
    expect(q.next()).toBe(5_000);
  });

  it('a repeating timer scheduled before the first tick starts at the first multiple after it', () => {
    const q = new TimerQueue();
    const early = q.schedule({ every: '1m', name: 'm' }, undefined, 's');
    expect(Number.isNaN(early.at)).toBe(true);
    expect(q.next()).toBe(Infinity);
    q.anchor(1_700_000_030_000);
    // not one occurrence per minute since 1970: the first is the minute after the first tick
    expect(drain(q, 1_700_000_100_000)).toEqual([['m', 1_700_000_040_000], ['m', 1_700_000_100_000]]);
  });

  it('cancel stops a timer; a cancelled one never fires', () => {
    const q = new TimerQueue();
    const a = q.schedule({ at: 10 }, 0, 's');
    const b = q.schedule({ every: 5 }, 0, 's');
    expect(q.cancel(a.id)).toBe(true);
    expect(q.cancel(a.id)).toBe(false);
    expect(drain(q, 12).map(([, at]) => at)).toEqual([5, 10]);
    q.cancel(b.id);
    expect(drain(q, 100)).toEqual([]);
  });

  it('refuses a bad spec with a message naming the strategy', () => {
    const q = new TimerQueue();
    expect(() => q.schedule({ every: 'soon' }, 0, 'strat-x')).toThrow(/strategy 'strat-x'.*every must be/);
    expect(() => q.schedule({ at: Number.NaN }, 0, 'strat-x')).toThrow(/give \{ at: epochMs \}/);
    expect(() => q.schedule({ at: 1, instrument: 1.5 }, 0, 'strat-x')).toThrow(/instrument must be an instrument token/);
  });
});

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['1m', 60_000],
    ['4h', 14_400_000],
    ['1d', 86_400_000],
  ])('%s = %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['', '1', '1w', '-1s', '0s', '1.5m'])('%j is not a duration', (text) => expect(parseDuration(text)).toBeUndefined());
});
