import type { SignalIntent } from '../../domain/signal.js';

/** -1 (sell regime), 0 (neutral) or +1 (buy regime). */
export type Regime = -1 | 0 | 1;

/** The signal for a regime transition: BUY on a change to +1, SELL on a change to −1, else nothing. */
export function transitionSignal(prev: Regime, next: Regime, quantity: number, reason: string): SignalIntent | undefined {
  if (next === prev || next === 0) return undefined;
  return { side: next === 1 ? 'BUY' : 'SELL', quantity, reason };
}
