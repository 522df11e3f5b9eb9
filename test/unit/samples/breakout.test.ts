import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Signal } from '../../../src/domain/signal.js';
import type { StrategyClass } from '../../../src/strategies/sdk/base-strategy.js';
import type { AnyStrategyDefinition } from '../../../src/strategies/sdk/types.js';
import { runStrategy } from '../../../src/testing/index.js';

/**
 * samples/strategies/breakout.mjs, the README's example module: imported as
 * a user's module is (it imports 'strategy-runner/sdk', which resolves to this
 * package's dist/ through its "exports"), and run with runStrategy.
 */
const SAMPLE = new URL('../../../samples/strategies/breakout.mjs', import.meta.url);
const { Breakout, EveryTenth } = (await import(SAMPLE.href)) as { Breakout: AnyStrategyDefinition; EveryTenth: StrategyClass };

const NIFTY = 256265;
const BANK = 260105;
const T0 = 1_732_160_700_000; // 2024-11-21 09:15:00 IST
const ticks = (prices: readonly number[], instrument_token = NIFTY) => prices.map((last_price, i) => ({ instrument_token, last_price, timestamp: T0 + i * 1000 }));
/** [side, quantity, price, tick index, reason] */
const brief = (signals: readonly Signal[]) => signals.map((s) => [s.side, s.quantity, s.price, (s.tick_timestamp - T0) / 1000, s.reason]);

describe("the README's Breakout (samples/strategies/breakout.mjs)", () => {
  // window 3, quantity 2. Each tick is compared with the 3 prices before it:
  //   #3 103 > max(100 101 102)                BUY 2 (flat)
  //   #4 101: neither above 103 nor below 101  -
  //   #5  99 < min(102 103 101)                SELL the position, if any
  //   #6 104 > max(103 101 99)                 BUY 2 if flat
  //   #7  98 < min(101 99 104)                 SELL the position, if any
  //   #8 105 > max(99 104 98)                  BUY 2 if flat
  const prices = [100, 101, 102, 103, 101, 99, 104, 98, 105];
  const params = { window: 3, quantity: 2 };

  it('without fills holds nothing, so it only ever BUYs: what replay without --fills gives', async () => {
    // NIFTY BANK ticks in between, flat at 500: never a breakout, and no effect on NIFTY's window
    const both = ticks(prices).flatMap((t) => [t, { ...t, instrument_token: BANK, last_price: 500 }]);
    const run = await runStrategy(Breakout, { params, ticks: both });
    expect(run.errors).toEqual([]);
    expect(brief(run.signals)).toEqual([
      ['BUY', 2, 103, 3, 'new high'],
      ['BUY', 2, 104, 6, 'new high'],
      ['BUY', 2, 105, 8, 'new high'],
    ]);
    expect(run.signals.every((s) => s.instrument_token === NIFTY && s.strategy_type === 'Breakout' && s.broker === 'paper')).toBe(true);
  });

  it("with fillModel 'next-tick' its BUYs fill, and it SELLs its position on a new low", async () => {
    // BUY #3 fills at #4's price, 101, and reaches the portfolio before #5: #5 SELLs 2.
    // SELL #5 fills at #6's price, 104, and reaches the portfolio before #7: at #6 it still
    // holds 2 (no BUY on that high); at #7 it is flat (no SELL on that low); #8 BUYs again,
    // an order with no later tick to fill it.
    const run = await runStrategy(Breakout, { params, ticks: ticks(prices), fillModel: 'next-tick', initialCash: 1_000_000 });
    expect(run.errors).toEqual([]);
    expect(brief(run.signals)).toEqual([
      ['BUY', 2, 103, 3, 'new high'],
      ['SELL', 2, 99, 5, 'new low'],
      ['BUY', 2, 105, 8, 'new high'],
    ]);
    expect(run.fills.map((f) => [f.side, f.quantity, f.price, (f.timestamp - T0) / 1000])).toEqual([
      ['BUY', 2, 101, 4],
      ['SELL', 2, 104, 6],
    ]);
    expect(run.portfolio.positions.get(NIFTY)?.quantity).toBe(0);
    expect(run.portfolio.realizedPnl).toBe(6); // 2 × (104 − 101)
    expect(run.portfolio.cash).toBe(1_000_000 + 6);
  });

  it('with the fills of its orders given, as replay --fills does, it SELLs too', async () => {
    const fill = { fill_id: 'f1', strategy_id: 'breakout', instrument_token: NIFTY, side: 'BUY', quantity: 2, price: 101, timestamp: T0 + 4000 };
    const run = await runStrategy(Breakout, { id: 'breakout', params, ticks: ticks(prices), fills: [fill] });
    expect(brief(run.signals)).toEqual([
      ['BUY', 2, 103, 3, 'new high'],
      ['SELL', 2, 99, 5, 'new low'],
      // the SELL never fills here: it still holds 2 at #6 (no BUY), and SELLs again at #7's new low
      ['SELL', 2, 98, 7, 'new low'],
    ]);
  });

  it('takes its defaults (window 20, quantity 1) and refuses a window below 2', async () => {
    const rising = ticks(Array.from({ length: 22 }, (_, i) => 100 + i));
    expect(brief((await runStrategy(Breakout, { ticks: rising })).signals)).toEqual([
      ['BUY', 1, 120, 20, 'new high'],
      ['BUY', 1, 121, 21, 'new high'],
    ]);
    await expect(runStrategy(Breakout, { params: { window: 1 }, ticks: rising })).rejects.toMatchObject({ code: 'STRATEGY_PARAMS_INVALID' });
  });

  it('EveryTenth (class style) BUYs on every tenth tick it gets, whatever the instrument', async () => {
    const mixed = ticks(Array.from({ length: 25 }, (_, i) => 100 + i)).map((t, i) => (i % 2 === 0 ? t : { ...t, instrument_token: BANK }));
    const run = await runStrategy(EveryTenth, { params: { quantity: 3 }, ticks: mixed });
    expect(run.errors).toEqual([]);
    expect(run.signals.map((s) => [s.side, s.quantity, s.instrument_token, s.price, s.reason])).toEqual([
      ['BUY', 3, BANK, 109, 'tick 10'],
      ['BUY', 3, BANK, 119, 'tick 20'],
    ]);
  });

  it("is the README's module, verbatim from its import line", () => {
    const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
    const block = /```js\n\/\/ my-strategies\.mjs[^\n]*\n([\s\S]*?)```/.exec(readme);
    expect(block, 'README.md has a ```js block starting with "// my-strategies.mjs"').not.toBeNull();
    const sample = readFileSync(SAMPLE, 'utf8');
    expect(sample.slice(sample.indexOf('\nimport ') + 1)).toBe(block![1]);
  });
});
