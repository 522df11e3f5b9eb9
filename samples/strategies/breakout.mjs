// samples/strategies/breakout.mjs: the example module of the README ("Writing a
// strategy"), verbatim from its import line on. Its test, with runStrategy
// (strategy-runner/testing): test/unit/samples/breakout.test.ts.
// Plain JavaScript, as every strategy module: threads never load TypeScript.
import { defineStrategy, BaseStrategy, RollingWindow, z } from 'strategy-runner/sdk';

// Composition style: BUY when the price breaks above the highest of the last `window` prices.
export const Breakout = defineStrategy({
  type: 'Breakout',
  description: 'BUY on a new high over the window, SELL on a new low',
  params: z.object({
    window: z.number().int().min(2).default(20),
    quantity: z.number().positive().default(1),
  }),
  create(params, ctx) {
    const windows = new Map(); // instrument_token → RollingWindow
    return {
      onTick(tick, tctx) {
        let w = windows.get(tick.instrument_token);
        if (!w) windows.set(tick.instrument_token, (w = new RollingWindow(params.window)));
        const prices = w.values();
        w.push(tick.last_price);
        if (prices.length < params.window) return;
        const position = tctx.portfolio.positions.get(tick.instrument_token)?.quantity ?? 0;
        if (tick.last_price > Math.max(...prices) && position <= 0) return { side: 'BUY', quantity: params.quantity, reason: 'new high' };
        if (tick.last_price < Math.min(...prices) && position > 0) return { side: 'SELL', quantity: position, reason: 'new low' };
      },
      onFill(fill) {
        ctx.logger.info({ fill_id: fill.fill_id }, 'filled');
      },
    };
  },
});

// Inheritance style, for those who prefer classes.
export class EveryTenth extends BaseStrategy {
  static type = 'EveryTenth';
  static params = z.object({ quantity: z.number().positive().default(1) });
  seen = 0;
  onTick(tick) {
    return ++this.seen % 10 === 0 ? this.buy(this.params.quantity, `tick ${this.seen}`) : undefined;
  }
}
