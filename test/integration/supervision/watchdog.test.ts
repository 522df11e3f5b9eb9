import { describe, expect, it } from 'vitest';
import { configs, newSupervisor, runTicks } from '../../helpers/runtime.js';
import { ticksOf } from '../../helpers/ticks.js';

/** Block this (the main) thread for `ms`, as a long GC pause or a descheduled process would, from a check-phase callback. */
function blockMainThread(ms: number): Promise<void> {
  return new Promise((resolve) =>
    setImmediate(() => {
      const until = Date.now() + ms;
      while (Date.now() < until);
      resolve();
    }),
  );
}

describe('the hang watchdog', { timeout: 60_000 }, () => {
  it('does not take a healthy thread for hung when the main thread itself was held up for longer than hangTimeoutMs', async () => {
    const { supervisor, lines } = await newSupervisor({ heartbeatIntervalMs: 50, supervision: { hangTimeoutMs: 400 } });
    try {
      await supervisor.start(configs([{ id: 'a', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 1 } }]));
      for (let i = 0; i < 3; i++) {
        await blockMainThread(1200);
        // Let the watchdog run a few times after the pause.
        await new Promise((r) => setTimeout(r, 300));
      }
      expect(lines.filter((l) => JSON.stringify(l).includes('WORKER_HUNG'))).toEqual([]);
      const st = await supervisor.status();
      expect(st.threads.map((t) => t.restarts)).toEqual([0]);
      expect(supervisor.strategyState('a')).toBe('running');
      expect((await runTicks(supervisor, ticksOf(1, [10, 11]))).map((s) => s.price)).toEqual([10, 11]);
    } finally {
      await supervisor.stop();
    }
  });
});
