import { z } from 'zod';
import { defineStrategy } from '../sdk/define-strategy.js';
import { RollingWindow } from '../rolling-window.js';
import { transitionSignal, type Regime } from './regime.js';

export const MeanReversionParams = z.object({
  lookback_period: z.number().int().min(2).default(50),
  deviation_threshold: z.number().positive().finite().default(1.5),
  quantity: z.number().positive().finite().default(1),
});

/**
 * z-score of the newest price against the window (population σ, divide by N).
 * σ = 0 gives regime 0. Regime +1 (cheap) when z < −threshold, −1 (rich) when z > threshold.
 * Two passes over the window every tick: exact and identical in replay and live,
 * unlike running sums that drift over millions of ticks.
 */
export function meanReversionRegime(window: readonly number[] | RollingWindow, threshold: number): { z: number; regime: Regime } {
  const n = window instanceof RollingWindow ? window.size : window.length;
  const at = window instanceof RollingWindow ? (i: number) => window.at(i) : (i: number) => window[i]!;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const p = at(i);
    sum += p;
    if (p < min) min = p;
    if (p > max) max = p;
  }
  // Equal prices mean σ = 0 exactly; the floating-point mean of equal values
  // can be off by an ulp and give every deviation the same sign, |z| = 1.
  if (min === max) return { z: 0, regime: 0 };
  const mean = sum / n;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const d = at(i) - mean;
    sq += d * d;
  }
  const sigma = Math.sqrt(sq / n);
  if (sigma === 0) return { z: 0, regime: 0 };
  const z = (at(n - 1) - mean) / sigma;
  return { z, regime: z < -threshold ? 1 : z > threshold ? -1 : 0 };
}

interface InstrumentState {
  prices: RollingWindow;
  regime: Regime;
}

export const MeanReversionStrategy = defineStrategy({
  type: 'MeanReversionStrategy',
  description:
    'Per instrument, z = (p - mean)/sigma over the last lookback_period prices (population sigma); ' +
    'BUY when z drops below -deviation_threshold, SELL when it rises above deviation_threshold (on regime change only).',
  params: MeanReversionParams,
  create(params) {
    const states = new Map<number, InstrumentState>();
    return {
      onTick(tick) {
        let s = states.get(tick.instrument_token);
        if (s === undefined) {
          s = { prices: new RollingWindow(params.lookback_period), regime: 0 };
          states.set(tick.instrument_token, s);
        }
        s.prices.push(tick.last_price);
        if (!s.prices.full) return undefined;
        const { z: score, regime } = meanReversionRegime(s.prices, params.deviation_threshold);
        const signal = transitionSignal(s.regime, regime, params.quantity, `z-score ${score.toFixed(6)}`);
        s.regime = regime;
        return signal;
      },
    };
  },
});
