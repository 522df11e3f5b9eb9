import { backoffDelay } from '../timing/backoff.js';

/**
 * OTP-style restart intensity with exponential back-off: a strategy may be
 * restarted `intensity` times within `windowMs`; the next restart in that
 * window quarantines it instead. Each restart within the window waits twice as
 * long as the previous one (initialDelayMs, 2×, 4×, … capped at maxDelayMs).
 */
export interface RestartPolicyOptions {
  initialDelayMs: number;
  maxDelayMs: number;
  intensity: number;
  windowMs: number;
}

export type RestartDecision = { action: 'restart'; delayMs: number; recent: number } | { action: 'quarantine'; recent: number };

/** Decide for one more failure at `now`, given earlier restart times (mutated: pruned and appended to). */
export function decideRestart(p: RestartPolicyOptions, restarts: number[], now: number): RestartDecision {
  while (restarts.length > 0 && now - restarts[0]! > p.windowMs) restarts.shift();
  if (restarts.length >= p.intensity) return { action: 'quarantine', recent: restarts.length };
  const delayMs = backoffDelay({ initialMs: p.initialDelayMs, maxMs: p.maxDelayMs }, restarts.length);
  restarts.push(now);
  return { action: 'restart', delayMs, recent: restarts.length };
}
