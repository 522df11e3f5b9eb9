import { afterEach, describe, expect, it, vi } from 'vitest';
import { configs, newSupervisor } from '../../helpers/runtime.js';

// hangTimeoutMs 2000 → the watchdog runs every 500 ms: the intervals with that period are the watchdog's.
const WATCHDOG_MS = 500;
const entries = [
  { id: 'a', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 2 } },
  { id: 'b', strategy_type: 'EveryNth', instruments: [2], parameters: { n: 2 } },
];

/** Every watchdog interval set during the test, and whether it was cleared. */
function watchIntervals(): { leaked: () => number } {
  const set = new Set<unknown>();
  const realSet = globalThis.setInterval;
  const realClear = globalThis.clearInterval;
  vi.spyOn(globalThis, 'setInterval').mockImplementation(((fn: () => void, ms?: number) => {
    const h = realSet(fn, ms);
    if (ms === WATCHDOG_MS) set.add(h);
    return h;
  }) as typeof setInterval);
  vi.spyOn(globalThis, 'clearInterval').mockImplementation(((h?: NodeJS.Timeout) => {
    set.delete(h);
    realClear(h);
  }) as typeof clearInterval);
  return { leaked: () => set.size };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('Supervisor start() and stop()', () => {
  it('a stop() while the threads are starting leaves it stopped, with no watchdog running', async () => {
    const intervals = watchIntervals();
    const { supervisor } = await newSupervisor({ controlTimeoutMs: 1500, supervision: { hangTimeoutMs: 2000 } });
    const starting = supervisor.start(configs(entries));
    await supervisor.stop();
    const report = await starting;
    expect(supervisor.state).toBe('stopped');
    expect(report.running).toEqual([]);
    expect(intervals.leaked()).toBe(0);
    expect(supervisor.watchdogRunning).toBe(false);
    await expect(supervisor.dispatch([{ instrument_token: 1, last_price: 1, timestamp: 1 }])).rejects.toMatchObject({ code: 'SUPERVISOR_STATE' });
  });

  it('a stop() while the strategies are starting leaves it stopped, its strategies stopped, with no watchdog running', async () => {
    const intervals = watchIntervals();
    const { supervisor } = await newSupervisor({ supervision: { hangTimeoutMs: 2000 } });
    const starting = supervisor.start(configs(entries));
    // The threads are ready: start() is now starting the strategies in them. Two threads can take
    // seconds to start on 2 busy cores (vi.waitFor's default 1 s failed under two CPU burners).
    try {
      await vi.waitFor(() => expect(supervisor.threads.length > 0 && supervisor.threads.every((h) => h.state === 'ready')).toBe(true), { interval: 1, timeout: 20_000 });
    } catch (err) {
      // Never leave a supervisor starting behind: its watchdog would start during the next test.
      await supervisor.stop();
      await starting;
      throw err;
    }
    const stopping = supervisor.stop();
    await starting;
    await stopping;
    expect(supervisor.state).toBe('stopped');
    expect(supervisor.strategyState('a') ?? 'stopped').toBe('stopped');
    expect(supervisor.strategyState('b') ?? 'stopped').toBe('stopped');
    expect(intervals.leaked()).toBe(0);
    expect(supervisor.watchdogRunning).toBe(false);
  });

  it('start() then stop(): running with the watchdog, then stopped without it', async () => {
    const intervals = watchIntervals();
    const { supervisor } = await newSupervisor({ supervision: { hangTimeoutMs: 2000 } });
    const report = await supervisor.start(configs(entries));
    expect(report.running).toEqual(['a', 'b']);
    expect(supervisor.state).toBe('running');
    expect(supervisor.watchdogRunning).toBe(true);
    expect(intervals.leaked()).toBe(1);
    await supervisor.stop();
    expect(supervisor.state).toBe('stopped');
    expect(intervals.leaked()).toBe(0);
    expect(supervisor.strategyState('a')).toBe('stopped');
  });
});
