import type { Drawdown, EquityPoint } from './report.js';

/**
 * The largest peak-to-trough fall of a curve, in order of its points: the
 * fall from the running maximum, largest in amount (its fraction is of its
 * own peak; a smaller fall from a lower peak can be a larger fraction). On
 * ties the earliest fall is kept. The fraction is null when the peak is ≤ 0.
 */
export function maxDrawdown(curve: readonly EquityPoint[]): Drawdown {
  let peak: EquityPoint | undefined;
  let best: { peak: EquityPoint; trough: EquityPoint; amount: number } | undefined;
  for (const p of curve) {
    if (peak === undefined || p.equity > peak.equity) {
      peak = p;
      continue;
    }
    const amount = peak.equity - p.equity;
    if (amount > 0 && (best === undefined || amount > best.amount)) best = { peak, trough: p, amount };
  }
  if (best === undefined) return { amount: 0, fraction: 0, peak: null, trough: null };
  return {
    amount: best.amount,
    fraction: best.peak.equity > 0 ? best.amount / best.peak.equity : null,
    peak: { timestamp: best.peak.timestamp, equity: best.peak.equity },
    trough: { timestamp: best.trough.timestamp, equity: best.trough.equity },
  };
}
