import { describe, expect, it } from 'vitest';
import { parseServiceConfig } from '../../../src/config/service-config.js';
import { RunnerError } from '../../../src/errors.js';

function rejects(input: unknown): RunnerError {
  try {
    parseServiceConfig(input, 'svc.json', '/b');
  } catch (err) {
    expect(err).toBeInstanceOf(RunnerError);
    return err as RunnerError;
  }
  throw new Error('expected a RunnerError');
}

describe('service configuration: supervision.overload', () => {
  it('defaults to conflating a strategy only once it is 10 s behind, and takes overrides per strategy id', () => {
    expect(parseServiceConfig({}, 'svc.json', '/b').supervision.overload).toEqual({ policy: 'conflate', behindAfterMs: 10_000, strategies: {} });
    const c = parseServiceConfig({ supervision: { overload: { policy: 'hold', strategies: { quotes: { policy: 'conflate', behindAfterMs: 2000 }, mr: { behindAfterMs: 30_000 } } } } }, 'svc.json', '/b');
    expect(c.supervision.overload).toEqual({ policy: 'hold', behindAfterMs: 10_000, strategies: { quotes: { policy: 'conflate', behindAfterMs: 2000 }, mr: { behindAfterMs: 30_000 } } });
  });

  it('rejects an unknown policy, a bound below 10 ms and unknown keys of an override, naming the path', () => {
    expect(rejects({ supervision: { overload: { policy: 'drop' } } }).message).toContain('supervision.overload.policy');
    expect(rejects({ supervision: { overload: { behindAfterMs: 5 } } }).message).toContain('supervision.overload.behindAfterMs');
    expect(rejects({ supervision: { overload: { strategies: { mr: { polcy: 'hold' } } } } }).message).toContain('supervision.overload.strategies.mr');
  });

  it('says what replaced supervision.slowAfterMs', () => {
    const e = rejects({ supervision: { slowAfterMs: 500 } });
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain('supervision.slowAfterMs was replaced by supervision.overload.behindAfterMs');
  });
});
