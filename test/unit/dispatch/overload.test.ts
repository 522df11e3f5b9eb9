import { describe, expect, it } from 'vitest';
import { threadOverload } from '../../../src/dispatch/overload.js';
import { overloadFor } from '../../../src/supervision/supervision-options.js';

const e = (id: string, host: number, state = 'running') => ({ config: { id }, host, state });

describe('threadOverload', () => {
  const options = { policy: 'conflate' as const, behindAfterMs: 100, strategies: { slowHold: { policy: 'hold' as const }, patient: { behindAfterMs: 500 } } };
  const settingOf = (id: string) => overloadFor(options, id);

  it('per thread: hold when any of its strategies holds, behind only past the longest of their bounds', () => {
    const m = threadOverload([e('a', 0), e('slowHold', 0), e('b', 1), e('patient', 1), e('c', 2), e('gone', 2, 'stopped')], settingOf);
    expect(m.get(0)).toEqual({ policy: 'hold', behindAfterMs: 100, ids: ['a', 'slowHold'] });
    expect(m.get(1)).toEqual({ policy: 'conflate', behindAfterMs: 500, ids: ['b', 'patient'] });
    expect(m.get(2)).toEqual({ policy: 'conflate', behindAfterMs: 100, ids: ['c'] });
  });

  it('a thread with only stopped strategies has no setting', () => {
    expect(threadOverload([e('x', 4, 'stopped')], settingOf).has(4)).toBe(false);
  });
});
