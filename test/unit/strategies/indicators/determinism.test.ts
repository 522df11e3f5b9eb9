import { describe, expect, it } from 'vitest';
import { ATR, BollingerBands, EMA, MACD, RSI, SMA, VWAP, perInstrument } from '../../../../src/strategies/indicators/index.js';
import { randomBars, randomWalk } from './series.js';

// Strategies must be deterministic (replay reproduces live signals): the same inputs, in a fresh
// indicator, give the same outputs to the bit, however the instruments' updates interleave.
const N = 20_000;
const prices = randomWalk(N, 17);
const volumes = randomWalk(N, 18).map((v) => Math.round(Math.abs(v - 100) * 1000));
const bars = randomBars(N, 19);

const runs: Record<string, () => unknown[]> = {
  SMA: () => prices.map(((s) => (p: number) => s.update(p))(new SMA(20))),
  EMA: () => prices.map(((s) => (p: number) => s.update(p))(new EMA(20))),
  RSI: () => prices.map(((s) => (p: number) => s.update(p))(new RSI(14))),
  MACD: () => prices.map(((s) => (p: number) => s.update(p))(new MACD())),
  BollingerBands: () => prices.map(((s) => (p: number) => s.update(p))(new BollingerBands(20, 2))),
  ATR: () => bars.map(((s) => (b: (typeof bars)[number]) => s.update(b))(new ATR(14))),
  VWAP: () => prices.map(((s) => (p: number, i: number) => s.update(p, volumes[i]!))(new VWAP())),
};

describe('determinism', () => {
  it.each(Object.keys(runs))('%s: the same input twice gives identical output', (name) => {
    const first = runs[name]!();
    const second = runs[name]!();
    expect(second).toEqual(first);
    // every value bit-identical, not merely close (toEqual already compares numbers with Object.is)
    expect(first.filter((v) => v !== undefined).length).toBeGreaterThan(N - 40);
  });

  it('per instrument, interleaving with other instruments changes nothing', () => {
    const macd = perInstrument(() => new MACD());
    const other = randomWalk(N, 23);
    const out: unknown[] = [];
    for (let i = 0; i < N; i++) {
      if (i % 3 === 0) macd.get(2).update(other[i]!);
      out.push(macd.get(1).update(prices[i]!));
      macd.get(3).update(other[N - 1 - i]!);
    }
    expect(out).toEqual(runs['MACD']!());
  });
});
