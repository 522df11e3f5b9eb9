import { describe, expect, it } from 'vitest';
import type { StrategyConfig } from '../../../src/config/strategy-config.js';
import type { ControlResult } from '../../../src/protocol/messages.js';
import { Restarter } from '../../../src/supervision/restarter.js';
import type { StrategyState } from '../../../src/supervision/states.js';
import type { StrategyEntry } from '../../../src/supervision/strategy-entry.js';
import type { ThreadPool } from '../../../src/supervision/thread-pool.js';
import type { WorkerHost } from '../../../src/supervision/worker-host.js';
import { configs } from '../../helpers/runtime.js';
import { fakeContext } from './fake-context.js';

/** A thread that answers every call at once; startStrategy answers from `starts` (then ok). */
function fakeHost(starts: ControlResult[] = []) {
  const calls: string[] = [];
  const host = {
    index: 0,
    state: 'ready',
    stopStrategy: async (slot: number) => (calls.push(`stop ${slot}`), { ok: true, value: undefined }),
    startStrategy: async (slot: number, config: StrategyConfig) => (calls.push(`start ${slot} ${JSON.stringify(config.parameters)}`), starts.shift() ?? { ok: true, value: undefined }),
    sendBatch: async () => ({ t: 'result', batch: 0, signals: [], errors: [] }),
    sendPortfolio: (slot: number) => calls.push(`portfolio ${slot}`),
  };
  return { host: host as unknown as WorkerHost, calls };
}

const failed = (message: string): ControlResult => ({ ok: false, error: { name: 'Error', code: 'STRATEGY_START_FAILED', message, retryable: false, details: {} } as never });

function setup(starts: ControlResult[] = [], restart = { initialDelayMs: 1, maxDelayMs: 4, intensity: 2, windowMs: 60_000 }) {
  const ctx = fakeContext({ maxConsecutiveErrors: 3, restart });
  const { host, calls } = fakeHost(starts);
  const pool = { host: () => host } as unknown as ThreadPool;
  const restarter = new Restarter(ctx, pool, () => undefined);
  const [config] = configs([{ id: 's', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 2 } }]);
  const e = ctx.strategies.create(config!, 0);
  e.life.to('running');
  ctx.strategies.add(e);
  const states: StrategyState[] = [];
  e.life.onChange((next) => states.push(next));
  return { ctx, restarter, e, calls, states };
}

async function settled(e: StrategyEntry, ...states: StrategyState[]): Promise<void> {
  await e.life.reached(...states);
}

describe('Restarter', () => {
  it('restarts a strategy after maxConsecutiveErrors errors in a row (wall clock), with back-off, and hands it its portfolio', async () => {
    const { ctx, restarter, e, calls, states } = setup();
    restarter.onTickError(e, 2, { code: 'X', message: 'boom' });
    expect(e.state).toBe('running');
    restarter.onTickError(e, 3, { code: 'X', message: 'boom' });
    expect(e.state).toBe('restarting');
    expect(e.lastRestartReason).toBe('3 consecutive errors, last: [X] boom');
    expect(e.recentRestarts).toHaveLength(1);
    await settled(e, 'running');
    expect(states).toEqual(['restarting', 'running']);
    expect(e.restarts).toBe(1);
    expect(calls).toEqual(['stop 0', 'stop 0', 'start 0 {"n":2}', 'portfolio 0']);
    expect(ctx.rebuilds).toBe(2); // out of the routes, back in
  });

  it('does not decide on errors in event time: the thread does', () => {
    const ctx = fakeContext({ maxConsecutiveErrors: 1 }, { clock: 'event' });
    const restarter = new Restarter(ctx, { host: () => undefined } as unknown as ThreadPool, () => undefined);
    const [config] = configs([{ id: 's', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 2 } }]);
    const e = ctx.strategies.create(config!, 0);
    e.life.to('running');
    restarter.onTickError(e, 5, { code: 'X', message: 'boom' });
    expect(e.state).toBe('running');
  });

  it('a restart that fails to start is followed by the next counted attempt, restarting throughout, until quarantined', async () => {
    const { restarter, e, calls, states } = setup([failed('no 1'), failed('no 2')]);
    void restarter.restart(e, 'first', true);
    await settled(e, 'quarantined');
    // Never back to running in between: restarting until the policy quarantines it.
    expect(states).toEqual(['restarting', 'quarantined']);
    expect(e.quarantineReason).toMatch(/^2 restarts within 60000 ms; last: restart failed: \[STRATEGY_START_FAILED\] no 2$/);
    expect(calls.filter((c) => c.startsWith('start'))).toHaveLength(2);
    // Quarantined stays down until resumed; a resume clears its history and starts it.
    expect(await restarter.restartStrategy(e)).toBe(true);
    await settled(e, 'running');
    expect(e.recentRestarts).toEqual([]);
    expect(e.quarantineReason).toBeUndefined();
    expect(await restarter.resumeStrategy(e)).toBe(false);
  });

  it('a changed configuration that does not start is rejected, and the version that ran before starts again', async () => {
    const { ctx, restarter, e, calls, states } = setup([failed('bad update')]);
    const before = e.config;
    e.rollback = { config: before, fields: ['parameters'], json: '{"new":1}' };
    e.config = { ...before, parameters: { n: 3 } };
    await restarter.restart(e, 'configuration changed (parameters)', false, true);
    expect(e.state).toBe('running');
    expect(states).toEqual(['restarting', 'running']);
    expect(e.config).toBe(before);
    expect(e.rejectedUpdate).toEqual({ code: 'STRATEGY_START_FAILED', error: 'bad update', fields: ['parameters'], json: '{"new":1}' });
    expect(ctx.totals.rejectedUpdates).toBe(1);
    expect(calls.filter((c) => c.startsWith('start'))).toEqual(['start 0 {"n":3}', 'start 0 {"n":2}']);
    expect(e.recentRestarts).toEqual([]); // neither attempt counted
  });

  it('mirrors what a thread decided in event time', () => {
    const { restarter, e } = setup();
    const r = (kind: 'retired' | 'restarted' | 'quarantined') => ({ t: 'result' as const, batch: 1, signals: [], errors: [], supervision: [{ slot: e.slot, i: 0, kind, reason: kind, restarts: 1, delayMs: 5, resumeAt: 9 }], missed: [[e.slot, 4] as const] });
    restarter.onThreadSupervision(r('retired'));
    expect([e.state, e.threadDown, e.missedTicks, e.lastRestartReason]).toEqual(['restarting', true, 4, 'retired']);
    restarter.onThreadSupervision(r('restarted'));
    expect([e.state, e.threadDown]).toEqual(['running', false]);
    restarter.onThreadSupervision(r('quarantined'));
    expect([e.state, e.threadDown, e.quarantineReason]).toEqual(['quarantined', true, 'quarantined']);
  });
});
