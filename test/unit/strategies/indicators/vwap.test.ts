import { describe, expect, it } from 'vitest';
import { VWAP } from '../../../../src/strategies/indicators/index.js';

describe('VWAP', () => {
  it('Σ price·volume / Σ volume, cumulative (hand-computed)', () => {
    const vwap = new VWAP();
    expect(vwap.update(100, 10)).toBe(100); // 1000 / 10
    expect(vwap.update(101, 30)).toBe(100.75); // (1000 + 3030) / 40 = 4030 / 40
    expect(vwap.update(99, 0)).toBe(100.75); // volume 0 adds nothing
    expect(vwap.update(102, 60)).toBe(101.5); // (4030 + 6120) / 100 = 10150 / 100
    expect([vwap.volume, vwap.count]).toEqual([100, 4]);
  });

  it('is not ready before some volume', () => {
    const vwap = new VWAP();
    expect(vwap.update(100, 0)).toBeUndefined();
    expect([vwap.ready, vwap.value, vwap.count, vwap.warmUp]).toEqual([false, undefined, 1, 1]);
    vwap.update(100, 5);
    expect(vwap.ready).toBe(true);
  });

  it('reset() starts a new session', () => {
    const vwap = new VWAP();
    vwap.update(100, 10);
    vwap.update(110, 10);
    expect(vwap.value).toBe(105);
    vwap.reset();
    expect([vwap.ready, vwap.value, vwap.count, vwap.volume]).toEqual([false, undefined, 0, 0]);
    expect(vwap.update(90, 3)).toBe(90);
  });

  it("from bars (bar.vwap weighted by bar.volume) equals the VWAP of the bars' ticks", () => {
    const ticks: [number, number][] = [[100, 10], [101, 30], [99, 20], [102, 60]];
    const fromTicks = new VWAP();
    for (const [p, v] of ticks) fromTicks.update(p, v);
    // bar 1: (1000 + 3030)/40 = 100.75, volume 40; bar 2: (1980 + 6120)/80 = 101.25, volume 80
    const bars = [{ vwap: 100.75, volume: 40 }, { vwap: 101.25, volume: 80 }];
    const fromBars = new VWAP();
    for (const b of bars) fromBars.update(b.vwap, b.volume);
    // (4030 + 8100)/120 = 12130/120 = 101.0833…
    expect(fromBars.value).toBe(fromTicks.value);
    expect(fromBars.value).toBeCloseTo(101.08333333333333, 12);
  });
});
