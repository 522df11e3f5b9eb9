import { describe, it, expect } from 'vitest';
import { z } from 'zod';
import { runStrategy } from '../../../src/testing/index.js';
import { defineStrategy } from '../../../src/strategies/sdk/index.js';
import type { Bar } from '../../../src/strategies/engine/bars.js';
import type { Timer } from '../../../src/strategies/engine/timers.js';

const ticks = (prices: readonly number[], step = 1000, start = 60_000, instrument_token = 7) =>
  prices.map((last_price, i) => ({ instrument_token, last_price, timestamp: start + i * step, volume: 1 }));

/** Buys on every tick; records what it saw of its clock and portfolio. */
const Recorder = defineStrategy({
  type: 'Recorder',
  params: z.object({ every: z.number().int().positive().default(1) }),
  create(params, ctx) {
    const seen: string[] = [];
    let n = 0;
    return {
      seen,
      onStart() {
        ctx.schedule({ every: 2000, name: 'two-s' });
      },
      onTick(tick, tctx) {
        seen.push(`tick ${tick.timestamp} now=${ctx.now()} pos=${tctx.portfolio.positions.get(7)?.quantity ?? 0}`);
        return ++n % params.every === 0 ? { side: 'BUY', quantity: 1 } : undefined;
      },
      onTimer(timer: Timer) {
        seen.push(`timer ${timer.name} ${timer.at} now=${ctx.now()}`);
      },
      onFill(fill) {
        seen.push(`fill ${fill.price} @${fill.timestamp}`);
      },
    };
  },
});

describe('runStrategy', () => {
  it('fires timers by event time before the tick that passed them, and feeds simulated fills back by the replay rule', async () => {
    let seen: string[] = [];
    const def = { ...Recorder, create: (p: { every: number }, c: Parameters<typeof Recorder.create>[1]) => { const i = Recorder.create(p, c) as ReturnType<typeof Recorder.create> & { seen: string[] }; seen = i.seen; return i; } };
    const run = await runStrategy(def, { params: { every: 2 }, ticks: ticks([100, 101, 102, 103]), fillModel: 'next-tick' });
    expect(seen).toEqual([
      'tick 60000 now=60000 pos=0',
      'tick 61000 now=61000 pos=0', // BUY here (2nd tick) …
      'timer two-s 62000 now=62000', // the timer at 62 000 fires before the tick at 62 000
      'tick 62000 now=62000 pos=0', // … fills at this tick's price (next-tick), stamped 62 000
      'fill 102 @62000', // reaches the strategy after every tick stamped ≤ 62 000
      'tick 63000 now=63000 pos=1', // BUY (4th tick): no next tick, decided never
    ]);
    expect(run.signals.map((s) => [s.side, s.price, s.tick_timestamp])).toEqual([
      ['BUY', 101, 61000],
      ['BUY', 103, 63000],
    ]);
    expect(run.fills.map((f) => [f.price, f.timestamp])).toEqual([[102, 62000]]);
    expect(run.portfolio.positions.get(7)?.quantity).toBe(1);
  });

  it('delivers bars to onBar before onTick of the tick that closed them; their signals carry the origin', async () => {
    const Bars = defineStrategy({
      type: 'Bars',
      params: z.object({}),
      bars: [{ every: '2s' }],
      create: () => ({
        onTick: () => undefined,
        onBar: (bar: Bar) => ({ side: bar.close > bar.open ? 'BUY' : 'SELL', reason: `${bar.open}->${bar.close}` }),
      }),
    });
    const run = await runStrategy(Bars, { ticks: ticks([10, 11, 12, 11, 13]) });
    // bars [60 000, 62 000): 10 → 11 BUY; [62 000, 64 000): 12 → 11 SELL; the open [64 000, …) never closes
    expect(run.signals.map((s) => [s.side, s.price, s.tick_timestamp, s.origin, s.reason])).toEqual([
      ['BUY', 11, 62000, 'bar 2s', '10->11'],
      ['SELL', 11, 64000, 'bar 2s', '12->11'],
    ]);
  });

  it('a bad intent is an error naming the strategy and the field, and nothing is emitted from that output', async () => {
    const Bad = defineStrategy({
      type: 'Bad',
      params: z.object({}),
      create: () => ({ onTick: () => [{ side: 'BUY' }, { side: 'BUY', type: 'LIMIT' }] as never }),
    });
    const run = await runStrategy(Bad, { id: 'bad-1', ticks: ticks([1]) });
    expect(run.signals).toEqual([]);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]!.error).toMatchObject({ code: 'STRATEGY_OUTPUT_INVALID' });
    expect(run.errors[0]!.error.message).toBe("strategy 'bad-1': onTick output #1 is invalid: a LIMIT intent needs limit_price, a finite number > 0, got undefined");
  });

  it('refuses unknown parameters as a real start does', async () => {
    await expect(runStrategy(Recorder, { params: { evry: 2 }, ticks: [] })).rejects.toMatchObject({ code: 'STRATEGY_PARAMS_INVALID' });
  });

  it('the same input twice gives byte-identical output', async () => {
    const input = { params: { every: 3 }, ticks: ticks([5, 6, 7, 8, 9, 10, 11]), fillModel: { model: 'same-tick' as const, slippageBps: 3, feeBps: 2 } };
    const a = await runStrategy(Recorder, input);
    const b = await runStrategy(Recorder, input);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(a.portfolio.fees).toBeGreaterThan(0);
  });
});
