import { afterEach, describe, expect, it } from 'vitest';
import { StrategyRegistry } from '../../../src/strategies/registry.js';
import { resolveWorkerEntry } from '../../../src/supervision/worker-entry.js';
import { ThreadPool } from '../../../src/supervision/thread-pool.js';
import type { WorkerHost } from '../../../src/supervision/worker-host.js';
import { FIXTURE_MODULES, FIXTURES, configs } from '../../helpers/runtime.js';
import { fakeContext } from './fake-context.js';

const cfg = (id: string) => configs([{ id, strategy_type: 'EveryNth', instruments: [1], parameters: { n: 2 } }])[0]!;

let pools: ThreadPool[] = [];
afterEach(async () => {
  await Promise.all(pools.map((p) => p.stopAll(2000)));
  pools = [];
});

async function newPool(poolSize?: number) {
  const ctx = fakeContext(
    {},
    {
      registry: await StrategyRegistry.create(FIXTURE_MODULES, FIXTURES),
      modules: FIXTURE_MODULES,
      baseDir: FIXTURES,
      logLevel: 'silent',
      writeLog: () => undefined,
      workerFile: resolveWorkerEntry(),
      heartbeatIntervalMs: 200,
      controlTimeoutMs: 5000,
      ...(poolSize === undefined ? {} : { poolSize }),
    },
  );
  const failures: WorkerHost[] = [];
  const retired: number[] = [];
  const pool = new ThreadPool(ctx, { onFailure: (h) => failures.push(h), onRetired: (i) => retired.push(i) });
  pools.push(pool);
  return { ctx, pool, failures, retired };
}

describe('ThreadPool', { timeout: 30_000 }, () => {
  it('a fixed pool: starts poolSize threads, places strategies round the threads, and a new one goes to the least loaded', async () => {
    const { ctx, pool } = await newPool(2);
    const { threads, hostOf, starts } = await pool.startFor(3);
    expect(threads).toBe(2);
    expect(hostOf).toEqual([0, 1, 0]);
    expect(starts.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled']);
    for (const [i, id] of ['a', 'b', 'c'].entries()) expect((await pool.startOn(cfg(id), hostOf[i]!))?.state).toBe('running');
    expect(ctx.strategies.onHost(0).map((e) => e.id)).toEqual(['a', 'c']);
    // Slots are unique across threads.
    expect(new Set([...ctx.strategies.values()].map((e) => e.slot)).size).toBe(3);
    expect(await pool.hostForNewStrategy()).toBe(1);
    expect(pool.size).toBe(2);
    // A fixed pool keeps its threads, even idle ones.
    await pool.retireIdleHost(1);
    expect(pool.host(1)).toBeDefined();
  });

  it('one thread per strategy: a new strategy gets a new thread, and a thread left without strategies is retired', async () => {
    const { ctx, pool, retired } = await newPool();
    const { threads } = await pool.startFor(1);
    expect(threads).toBe(1);
    const a = (await pool.startOn(cfg('a'), 0))!;
    const index = await pool.hostForNewStrategy();
    expect(index).toBe(1);
    expect(pool.threads.map((h) => h.state)).toEqual(['ready', 'ready']);
    await pool.retireIdleHost(0); // a still runs there
    expect(pool.host(0)).toBeDefined();
    a.life.to('stopped');
    ctx.strategies.delete(a);
    const host = pool.host(0)!;
    await pool.retireIdleHost(0);
    expect(pool.host(0)).toBeUndefined();
    expect(host.state).toBe('stopped');
    expect(retired).toEqual([0]);
    // Indexes are not reused.
    expect(pool.slots).toHaveLength(2);
    expect(pool.threads.map((h) => h.index)).toEqual([1]);
  });

  it('a strategy that fails to start is rejected, named, and its configuration remembered', async () => {
    const { ctx, pool } = await newPool();
    await pool.startFor(1);
    const [bad] = configs([{ id: 'bad', strategy_type: 'FailsToStart', instruments: [1] }]);
    expect(await pool.startOn(bad!, 0)).toBeUndefined();
    expect(ctx.strategies.get('bad')).toBeUndefined();
    expect(ctx.strategies.rejected).toEqual([expect.objectContaining({ strategyId: 'bad' })]);
    expect(ctx.strategies.rejectedConfigs.get('bad')).toBe(JSON.stringify(bad));
  });
});
