import { describe, expect, it } from 'vitest';
import type { Tick } from '../../../src/domain/tick.js';
import { configs, newSupervisor, runTicks, strategyStatus } from '../../helpers/runtime.js';
import { eventually } from '../../helpers/service.js';

const t = (i: number, extra: Record<string, unknown> = {}): Tick => ({ instrument_token: 9, last_price: 10 + i, timestamp: i, ...extra });

describe('ticks a strategy misses while it is restarting (live, wall clock)', { timeout: 60_000 }, () => {
  it('are counted as missed by that strategy, not as ticks no strategy wanted', async () => {
    const { supervisor } = await newSupervisor({ supervision: { maxConsecutiveErrors: 3, restart: { initialDelayMs: 60_000, maxDelayMs: 60_000, intensity: 5, windowMs: 60_000 } } });
    try {
      await supervisor.start(configs([{ id: 'only', strategy_type: 'Recorder', instruments: [9] }]));
      await runTicks(supervisor, [t(0, { fail: true }), t(1, { fail: true }), t(2, { fail: true })]);
      await eventually('backing off', () => supervisor.strategyState('only'), (s) => s === 'restarting', 10_000);
      const r = await supervisor.dispatch([t(3), t(4), t(5), { instrument_token: 77, last_price: 1, timestamp: 6 }]);
      expect(r.unrouted).toBe(1); // token 77: nobody's
      expect(await strategyStatus(supervisor, 'only')).toMatchObject({ state: 'restarting', missed_ticks: 3 });
      expect((await supervisor.status()).totals['unrouted_ticks']).toBe(1);
      expect(supervisor.supervisionOf('only')).toEqual({ restarts: 0, missedTicks: 3, quarantined: false });
    } finally {
      await supervisor.stop();
    }
  });
});
