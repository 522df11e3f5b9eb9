import { z } from 'zod';
import { defineStrategy } from '../sdk/define-strategy.js';
import { RollingWindow } from '../rolling-window.js';
import { transitionSignal, type Regime } from './regime.js';

export const SimpleMomentumParams = z.object({
  lookback_period: z.number().int().min(1).default(20),
  momentum_threshold: z.number().positive().finite().default(0.01),
  quantity: z.number().positive().finite().default(1),
});

/** m = (p_now − p_then) / p_then over lookback_period ticks; regime +1 above the threshold, −1 below its negative. */
export function momentumRegime(pNow: number, pThen: number, threshold: number): { m: number; regime: Regime } {
  const m = (pNow - pThen) / pThen;
  return { m, regime: m > threshold ? 1 : m < -threshold ? -1 : 0 };
}

interface InstrumentState {
  prices: RollingWindow;
  regime: Regime;
}

export const SimpleMomentumStrategy = defineStrategy({
  type: 'SimpleMomentumStrategy',
  description:
    'Per instrument, m = (p_now - p_then)/p_then with p_then the price lookback_period ticks earlier; ' +
    'BUY when m rises above momentum_threshold, SELL when it falls below -momentum_threshold (on regime change only).',
  params: SimpleMomentumParams,
  create(params) {
    const states = new Map<number, InstrumentState>();
    return {
      onTick(tick) {
        let s = states.get(tick.instrument_token);
        if (s === undefined) {
          s = { prices: new RollingWindow(params.lookback_period + 1), regime: 0 };
          states.set(tick.instrument_token, s);
        }
        s.prices.push(tick.last_price);
        if (!s.prices.full) return undefined;
        const { m, regime } = momentumRegime(tick.last_price, s.prices.oldest(), params.momentum_threshold);
        const signal = transitionSignal(s.regime, regime, params.quantity, `momentum ${m.toFixed(6)}`);
        s.regime = regime;
        return signal;
      },
    };
  },
});
