import { describe, expect, it } from 'vitest';
import { decideRestart } from '../../../src/supervision/restart-policy.js';

const P = { initialDelayMs: 100, maxDelayMs: 500, intensity: 3, windowMs: 10_000 };

describe('decideRestart', () => {
  it('doubles the delay with each restart in the window, capped', () => {
    const r: number[] = [];
    expect(decideRestart({ ...P, intensity: 10 }, r, 0)).toEqual({ action: 'restart', delayMs: 100, recent: 1 });
    expect(decideRestart({ ...P, intensity: 10 }, r, 1)).toEqual({ action: 'restart', delayMs: 200, recent: 2 });
    expect(decideRestart({ ...P, intensity: 10 }, r, 2)).toEqual({ action: 'restart', delayMs: 400, recent: 3 });
    expect(decideRestart({ ...P, intensity: 10 }, r, 3)).toEqual({ action: 'restart', delayMs: 500, recent: 4 });
  });

  it('quarantines on the failure after `intensity` restarts within the window', () => {
    const r: number[] = [];
    for (let i = 0; i < 3; i++) expect(decideRestart(P, r, i * 1000).action).toBe('restart');
    expect(decideRestart(P, r, 3000)).toEqual({ action: 'quarantine', recent: 3 });
  });

  it('forgets restarts older than the window', () => {
    const r: number[] = [];
    for (let i = 0; i < 3; i++) decideRestart(P, r, i);
    // 10,001 ms after the first restart, it has left the window: room for one more, at the delay for two recent restarts.
    expect(decideRestart(P, r, 10_001)).toEqual({ action: 'restart', delayMs: 400, recent: 3 });
  });
});
