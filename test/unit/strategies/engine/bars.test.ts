import { describe, it, expect } from 'vitest';
import { BarBook, type Bar } from '../../../../src/strategies/engine/bars.js';
import type { Tick } from '../../../../src/domain/tick.js';

const t = (instrument_token: number, timestamp: number, last_price: number, volume?: number): Tick =>
  volume === undefined ? { instrument_token, timestamp, last_price } : { instrument_token, timestamp, last_price, volume };

/** Feed ticks the way the driver does: close by the clock, then add. */
function feed(book: BarBook, ticks: readonly Tick[]): Bar[] {
  const out: Bar[] = [];
  let clock = -Infinity;
  for (const k of ticks) {
    clock = Math.max(clock, k.timestamp);
    out.push(...book.closeUntil(clock));
    out.push(...book.add(k, clock));
  }
  return out;
}

describe('time bars', () => {
  it('are aligned to the epoch and close at the first tick at or after their end', () => {
    const book = new BarBook([{ every: '1m' }], [7]);
    const bars = feed(book, [t(7, 60_000 + 5, 100, 2), t(7, 60_000 + 30_000, 104, 1), t(7, 60_000 + 59_999, 98, 1), t(7, 120_000, 101, 5)]);
    // the tick at 120 000 (= end) closes [60 000, 120 000): O 100 H 104 L 98 C 98, V 4, VWAP (200 + 104 + 98)/4 = 100.5
    expect(bars).toEqual([
      { instrument_token: 7, spec: '1m', open: 100, high: 104, low: 98, close: 98, volume: 4, vwap: 100.5, ticks: 3, start: 60_000, end: 120_000 },
    ]);
    // the 120 000 tick opened the next bar; a timer-free clock move past 180 000 closes it
    expect(book.nextEnd()).toBe(180_000);
    expect(book.closeUntil(180_000)).toEqual([
      { instrument_token: 7, spec: '1m', open: 101, high: 101, low: 101, close: 101, volume: 5, vwap: 101, ticks: 1, start: 120_000, end: 180_000 },
    ]);
  });

  it('give no bar for an empty interval unless asked; with empty: true, flat bars at the last close', () => {
    const ticks = [t(1, 1_000, 10), t(1, 4_500, 12)];
    expect(feed(new BarBook([{ every: 1000 }], [1]), ticks).map((b) => [b.start, b.ticks])).toEqual([[1_000, 1]]);
    const withEmpty = feed(new BarBook([{ every: 1000, empty: true }], [1]), ticks);
    expect(withEmpty.map((b) => [b.start, b.end, b.ticks, b.close, b.volume])).toEqual([
      [1_000, 2_000, 1, 10, 0],
      [2_000, 3_000, 0, 10, 0],
      [3_000, 4_000, 0, 10, 0],
    ]);
  });

  it('without volume, VWAP is the mean price of the ticks', () => {
    const bars = feed(new BarBook([{ every: '1s' }], [1]), [t(1, 0, 10), t(1, 100, 11), t(1, 200, 15), t(1, 1000, 1)]);
    expect(bars[0]!.vwap).toBe(12); // (10 + 11 + 15) / 3
  });

  it("another instrument's tick moves the clock and closes this instrument's bar", () => {
    const bars = feed(new BarBook([{ every: '1s' }], [1, 2]), [t(1, 100, 10), t(2, 1_500, 20)]);
    expect(bars.map((b) => [b.instrument_token, b.start])).toEqual([[1, 0]]);
  });

  it('a late tick (older than the clock) joins the open bar', () => {
    const bars = feed(new BarBook([{ every: '1s' }], [1]), [t(1, 1_100, 10), t(1, 900, 9), t(1, 2_000, 11)]);
    expect(bars[0]).toMatchObject({ start: 1_000, ticks: 2, low: 9, close: 9 });
  });
});

describe('tick and volume bars', () => {
  it('a tick bar ends with its Nth tick', () => {
    const bars = feed(new BarBook([{ ticks: 3 }], [1]), [t(1, 1, 5), t(1, 2, 7), t(1, 3, 6), t(1, 4, 8)]);
    expect(bars).toEqual([{ instrument_token: 1, spec: '3t', open: 5, high: 7, low: 5, close: 6, volume: 0, vwap: 6, ticks: 3, start: 1, end: 3 }]);
  });

  it('a volume bar ends with the tick that reaches the volume (not split)', () => {
    const bars = feed(new BarBook([{ volume: 10 }], [1]), [t(1, 1, 100, 4), t(1, 2, 110, 4), t(1, 3, 90, 5), t(1, 4, 95, 1)]);
    // 4 + 4 + 5 = 13 ≥ 10 at the third tick; VWAP (400 + 440 + 450) / 13 = 99.2307...
    expect(bars).toHaveLength(1);
    expect(bars[0]).toMatchObject({ spec: '10v', volume: 13, ticks: 3, start: 1, end: 3, close: 90 });
    expect(bars[0]!.vwap).toBeCloseTo(1290 / 13, 12);
  });

  it('each instrument has its own bars', () => {
    const bars = feed(new BarBook([{ ticks: 2 }], [1, 2]), [t(1, 1, 5), t(2, 2, 50), t(1, 3, 6), t(2, 4, 60)]);
    expect(bars.map((b) => [b.instrument_token, b.open, b.close])).toEqual([
      [1, 5, 6],
      [2, 50, 60],
    ]);
  });
});
