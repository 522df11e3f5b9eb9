import { describe, expect, it } from 'vitest';
import { ATR, EMA, PerInstrument, RSI, SMA, perInstrument } from '../../../../src/strategies/indicators/index.js';
import { randomWalk } from './series.js';

describe('perInstrument', () => {
  it('keeps one indicator per instrument: interleaved ticks give what each series alone gives', () => {
    const a = randomWalk(300, 1);
    const b = randomWalk(300, 2);
    const rsi = perInstrument(() => new RSI(14));
    const interleaved: { a: (number | undefined)[]; b: (number | undefined)[] } = { a: [], b: [] };
    for (let i = 0; i < 300; i++) {
      // ticks as the runtime hands them over
      interleaved.a.push(rsi.get(256265).update({ instrument_token: 256265, last_price: a[i]!, timestamp: i }.last_price));
      interleaved.b.push(rsi.get(341249).update({ instrument_token: 341249, last_price: b[i]!, timestamp: i }.last_price));
    }
    const alone = (xs: number[]) => {
      const r = new RSI(14);
      return xs.map((x) => r.update(x));
    };
    expect(interleaved.a).toEqual(alone(a));
    expect(interleaved.b).toEqual(alone(b));
    expect(interleaved.a).not.toEqual(interleaved.b);
    expect(rsi.size).toBe(2);
  });

  it('works the same on bars', () => {
    const atr = perInstrument(() => new ATR(2));
    const bars = [
      { instrument_token: 1, open: 10, high: 11, low: 9, close: 10, volume: 5, vwap: 10, ticks: 2, start: 0, end: 60_000 },
      { instrument_token: 2, open: 50, high: 55, low: 45, close: 50, volume: 5, vwap: 50, ticks: 2, start: 0, end: 60_000 },
      { instrument_token: 1, open: 10, high: 12, low: 10, close: 11, volume: 5, vwap: 11, ticks: 2, start: 60_000, end: 120_000 },
      { instrument_token: 2, open: 50, high: 52, low: 50, close: 51, volume: 5, vwap: 51, ticks: 2, start: 60_000, end: 120_000 },
    ];
    for (const bar of bars) atr.get(bar.instrument_token).update(bar);
    // instrument 1: TR 2, then max(2, |12 − 10|, |10 − 10|) = 2 → 2; instrument 2: TR 10, then max(2, 2, 0) = 2 → 6
    expect(atr.get(1).value).toBe(2);
    expect(atr.get(2).value).toBe(6);
  });

  it('calls the factory once per instrument, with its token', () => {
    const made: number[] = [];
    const ema = perInstrument((token) => {
      made.push(token);
      return new EMA(token === 7 ? 2 : 3);
    });
    ema.get(7).update(1);
    ema.get(7).update(2);
    ema.get(8).update(1);
    expect(made).toEqual([7, 8]);
    expect(ema.get(7).period).toBe(2);
    expect(ema.get(8).period).toBe(3);
  });

  it('peek and has do not make; delete and clear start afresh', () => {
    const sma = perInstrument(() => new SMA(2));
    expect(sma.peek(5)).toBeUndefined();
    expect(sma.has(5)).toBe(false);
    expect(sma.size).toBe(0);
    sma.get(5).update(10);
    sma.get(5).update(20);
    expect(sma.peek(5)!.value).toBe(15);
    expect(sma.delete(5)).toBe(true);
    expect(sma.get(5).count).toBe(0);
    sma.get(6);
    sma.clear();
    expect(sma.size).toBe(0);
  });

  it('iterates over [token, state] pairs in first-use order', () => {
    const sma = new PerInstrument(() => new SMA(1));
    sma.get(3).update(30);
    sma.get(1).update(10);
    expect([...sma].map(([token, s]) => [token, s.value])).toEqual([[3, 30], [1, 10]]);
    expect([...sma.keys()]).toEqual([3, 1]);
    expect([...sma.values()].map((s) => s.value)).toEqual([30, 10]);
    expect([...sma.entries()].length).toBe(2);
  });

  it('holds records of several indicators', () => {
    const cross = perInstrument(() => ({ fast: new EMA(2), slow: new EMA(4) }));
    for (const p of [1, 2, 3, 4]) {
      const s = cross.get(9);
      s.fast.update(p);
      s.slow.update(p);
    }
    expect(cross.get(9).fast.value!).toBeGreaterThan(cross.get(9).slow.value!);
  });
});
