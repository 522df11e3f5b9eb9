import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RunnerError } from '../../../src/errors.js';
import { PROTOCOL_VERSION } from '../../../src/protocol/messages.js';
import { WorkerHost } from '../../../src/supervision/worker-host.js';
import { FIXTURES, configs, memoryLogger, newSupervisor } from '../../helpers/runtime.js';

/** The real thread entry, speaking PROTOCOL_VERSION + 1: what a stale build of dist/workers does. */
const OTHER_PROTOCOL = fileURLToPath(new URL('../../fixtures/workers/other-protocol.cjs', import.meta.url));

describe('a strategy thread that speaks another protocol version', { timeout: 60_000 }, () => {
  it('fails the thread start with WORKER_PROTOCOL_MISMATCH naming both versions, not WORKER_EXITED', async () => {
    const { logger, write } = memoryLogger('silent');
    const host = new WorkerHost({
      index: 0,
      workerFile: OTHER_PROTOCOL,
      modules: [],
      baseDir: FIXTURES,
      logLevel: 'silent',
      heartbeatIntervalMs: 200,
      controlTimeoutMs: 10_000,
      logger,
      writeLog: write,
    });
    let err: unknown;
    try {
      await host.start();
    } catch (e) {
      err = e;
    } finally {
      await host.stop(2000);
    }
    expect(err).toBeInstanceOf(RunnerError);
    const e = err as RunnerError;
    expect(e.code).toBe('WORKER_PROTOCOL_MISMATCH');
    expect(e.message).toContain(`protocol ${PROTOCOL_VERSION + 1}`);
    expect(e.message).toContain(`protocol ${PROTOCOL_VERSION}`);
    expect(e.message).toContain('npm run build');
    expect(e.details).toMatchObject({ thread: 0, thread_protocol: PROTOCOL_VERSION + 1, supervisor_protocol: PROTOCOL_VERSION });
    expect(host.state).toBe('failed');
  });

  it("reports the thread's strategies as not started with WORKER_PROTOCOL_MISMATCH", async () => {
    const { supervisor } = await newSupervisor({ workerFile: OTHER_PROTOCOL });
    try {
      const report = await supervisor.start(configs([{ id: 'm', strategy_type: 'SimpleMomentumStrategy', instruments: [1] }]));
      expect(report.running).toEqual([]);
      expect(report.rejected).toEqual([expect.objectContaining({ strategyId: 'm', error: expect.objectContaining({ code: 'WORKER_PROTOCOL_MISMATCH' }) })]);
    } finally {
      await supervisor.stop();
    }
  });
});
