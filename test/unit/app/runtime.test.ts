import { describe, expect, it } from 'vitest';
import { installationFailure } from '../../../src/app/runtime.js';
import { exitCodeFor } from '../../../src/errors.js';
import type { StartReport } from '../../../src/supervision/supervisor.js';

const report = (r: Partial<StartReport>): StartReport => ({ running: [], rejected: [], inactive: [], threads: 1, ...r });
const mismatch = { code: 'WORKER_PROTOCOL_MISMATCH' as const, message: 'thread 0: strategy thread speaks protocol 4, the supervisor protocol 3 (npm run build)' };

describe('installationFailure: a start where the build, not a strategy, is wrong', () => {
  it('nothing runs and every strategy was refused by a thread of another protocol: a configuration error (exit 78)', () => {
    const e = installationFailure(report({ rejected: [{ strategyId: 'a', error: mismatch }, { strategyId: 'b', error: mismatch }] }));
    expect(e).toMatchObject({ code: 'WORKER_PROTOCOL_MISMATCH', details: { strategies: ['a', 'b'] } });
    expect(e!.message).toContain('no strategy can run: thread 0: strategy thread speaks protocol 4');
    expect(exitCodeFor(e)).toBe(78);
  });

  it('one strategy of its own failing, or anything running, is not: the others go on', () => {
    expect(installationFailure(report({ running: ['b'], rejected: [{ strategyId: 'a', error: mismatch }] }))).toBeUndefined();
    expect(installationFailure(report({ rejected: [{ strategyId: 'a', error: { code: 'STRATEGY_START_FAILED', message: 'x' } }] }))).toBeUndefined();
    expect(installationFailure(report({ rejected: [{ strategyId: 'a', error: mismatch }, { strategyId: 'b', error: { code: 'STRATEGY_PARAMS_INVALID', message: 'x' } }] }))).toBeUndefined();
    expect(installationFailure(report({}))).toBeUndefined();
  });
});
