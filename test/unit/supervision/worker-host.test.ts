import { describe, expect, it } from 'vitest';
import type { Tick } from '../../../src/domain/tick.js';
import { emptyPortfolio } from '../../../src/domain/portfolio.js';
import { RunnerError } from '../../../src/errors.js';
import { resolveWorkerEntry } from '../../../src/supervision/worker-entry.js';
import { WorkerHost, type WorkerHostOptions } from '../../../src/supervision/worker-host.js';
import { FIXTURE_MODULES, FIXTURES, configs, memoryLogger } from '../../helpers/runtime.js';

/** A host on the real thread entry (dist/, built by the global setup) with the fixture strategies. */
function newHost(over: Partial<WorkerHostOptions> = {}): { host: WorkerHost; failures: Error[] } {
  const { logger, write } = memoryLogger('silent');
  const failures: Error[] = [];
  const host = new WorkerHost({
    index: 0,
    workerFile: resolveWorkerEntry(),
    modules: FIXTURE_MODULES,
    baseDir: FIXTURES,
    logLevel: 'silent',
    heartbeatIntervalMs: 100,
    controlTimeoutMs: 5000,
    logger,
    writeLog: write,
    onFailure: (_, err) => failures.push(err),
    ...over,
  });
  return { host, failures };
}

const tick = (token: number, price: number, ts = 1_700_000_000_000 + price): Tick => ({ instrument_token: token, last_price: price, timestamp: ts });
const [everySecond] = configs([{ id: 'e', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 2 } }]);
const [exits] = configs([{ id: 'x', strategy_type: 'ExitsThread', instruments: [1], parameters: { price: 100 } }]);

describe('WorkerHost', { timeout: 30_000 }, () => {
  it('starts a thread, runs a strategy on batches in order, reports health, and stops (memoised)', async () => {
    const { host, failures } = newHost();
    expect(host.state).toBe('created');
    try {
      await host.start();
      expect(host.state).toBe('ready');
      expect(host.threadId).toBeGreaterThan(0);
      expect(await host.startStrategy(7, everySecond!, emptyPortfolio(0))).toEqual({ ok: true, value: 'none' });
      const first = host.sendBatch([tick(1, 10), tick(1, 11)], [1, 7, 1, 7]);
      const second = host.sendBatch([tick(1, 12), tick(1, 13), tick(1, 14)], [1, 7, 1, 7, 1, 7]);
      expect(host.queueDepth).toBe(2);
      const [a, b] = await Promise.all([first, second]);
      expect(a.signals.map((s) => [s.i, s.signal.price])).toEqual([[1, 11]]);
      expect(b.signals.map((s) => [s.i, s.signal.price])).toEqual([[1, 13]]);
      expect(a.batch).toBeLessThan(b.batch);
      expect(host.queueDepth).toBe(0);
      expect(host.behindMs(Date.now())).toBe(0);
      const health = await host.health();
      expect(health?.slots).toEqual([expect.objectContaining({ slot: 7, ticksIn: 5, signalsOut: 2 })]);
      // A warm-up batch runs onTick and builds no signals.
      expect((await host.sendBatch([tick(1, 15), tick(1, 16)], [1, 7, 1, 7], true)).signals).toEqual([]);
      expect(await host.stopStrategy(7)).toMatchObject({ ok: true });
    } finally {
      const stopping = host.stop(2000);
      expect(host.stop()).toBe(stopping);
      await stopping;
    }
    expect(host.state).toBe('stopped');
    expect(failures).toEqual([]);
    await expect(host.sendBatch([tick(1, 1)], [1, 7])).rejects.toMatchObject({ code: 'WORKER_EXITED' });
    // Calls that need a ready thread say so; the ones that do not are no-ops.
    expect(await host.health()).toBeUndefined();
    expect(await host.stopStrategy(7)).toEqual({ ok: true, value: undefined });
  });

  it('refuses calls its state does not allow, with SUPERVISOR_STATE', async () => {
    const { host } = newHost();
    await expect(host.startStrategy(0, everySecond!, emptyPortfolio(0))).rejects.toMatchObject({ code: 'SUPERVISOR_STATE' });
    await host.start();
    try {
      await expect(host.start()).rejects.toMatchObject({ code: 'SUPERVISOR_STATE' });
    } finally {
      await host.stop(2000);
    }
  });

  it('a thread that ends by itself fails its pending batches with WORKER_EXITED, reports once, and names what it was on', async () => {
    const { host, failures } = newHost();
    await host.start();
    try {
      expect((await host.startStrategy(3, exits!, emptyPortfolio(0))).ok).toBe(true);
      const lost = host.sendBatch([tick(1, 10), tick(1, 100), tick(1, 11)], [1, 3, 1, 3, 1, 3]);
      await expect(lost).rejects.toMatchObject({ code: 'WORKER_EXITED' });
      expect(host.state).toBe('failed');
      expect(host.failure).toBeInstanceOf(RunnerError);
      expect(failures).toHaveLength(1);
      expect(failures[0]).toBe(host.failure);
      expect(host.lastActive).toEqual({ slot: 3, tick: tick(1, 100) });
      await expect(host.sendBatch([tick(1, 1)], [1, 3])).rejects.toBe(host.failure);
    } finally {
      await host.stop(2000);
    }
    // Failed is final: a stop does not make it stopped.
    expect(host.state).toBe('failed');
  });

  it('terminate() ends the thread now: pending batches reject with the reason', async () => {
    const { host, failures } = newHost();
    await host.start();
    await host.startStrategy(0, everySecond!, emptyPortfolio(0));
    const reason = new RunnerError('WORKER_HUNG', 'test: hung');
    const pending = expect(host.sendBatch([tick(1, 1)], [1, 0])).rejects.toBe(reason);
    await host.terminate(reason);
    await pending;
    expect(host.state).toBe('failed');
    expect(failures).toEqual([reason]);
    await host.stop(1000);
  });
});
