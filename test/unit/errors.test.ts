import { describe, it, expect } from 'vitest';
import { ERROR_CODES, EXIT_CODES, RunnerError, asRunnerError, deserializeError, exitCodeFor, isConfigurationError, serializeError, type ErrorCode } from '../../src/errors.js';

describe('RunnerError', () => {
  it('carries code, message, details, name and cause', () => {
    const cause = new Error('inner');
    const e = new RunnerError('TICK_INVALID', 'bad tick at line 3', { cause, details: { line: 3 } });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('RunnerError');
    expect(e.code).toBe('TICK_INVALID');
    expect(e.message).toBe('bad tick at line 3');
    expect(e.details).toEqual({ line: 3 });
    expect(e.cause).toBe(cause);
  });

  it('defaults details to {} and has no cause when none is given', () => {
    const e = new RunnerError('CONFIG_INVALID', 'x');
    expect(e.details).toEqual({});
    expect('cause' in e).toBe(false);
  });

  it('is retryable exactly for the conditions the runner retries: an unreachable broker or database, a thread that died, hung or did not answer', () => {
    const retryable = ERROR_CODES.filter((c) => new RunnerError(c, 'x').retryable);
    expect(retryable.sort()).toEqual(['DATABASE_UNAVAILABLE', 'KAFKA_UNAVAILABLE', 'WORKER_EXITED', 'WORKER_HUNG', 'WORKER_UNRESPONSIVE']);
    expect(new RunnerError('KAFKA_UNAVAILABLE', 'x').retryable).toBe(true);
    expect(new RunnerError('DATABASE_UNAVAILABLE', 'x').retryable).toBe(true);
    expect(new RunnerError('WORKER_UNRESPONSIVE', 'x').retryable).toBe(true);
    // A missing topic, a refused signal or a configuration mistake does not go away by itself.
    expect(new RunnerError('KAFKA_TOPIC_MISSING', 'x').retryable).toBe(false);
    expect(new RunnerError('SIGNAL_DELIVERY_FAILED', 'x').retryable).toBe(false);
    expect(new RunnerError('CONFIG_INVALID', 'x').retryable).toBe(false);
    expect(new RunnerError('STRATEGY_TICK_FAILED', 'x').retryable).toBe(false);
  });

  it('classifies a client library error as the given (retryable) code, and keeps a RunnerError as it is', () => {
    const raw = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9092'), { code: 'ECONNREFUSED' });
    const k = asRunnerError(raw, 'KAFKA_UNAVAILABLE', 'connecting to the broker');
    expect(k).toBeInstanceOf(RunnerError);
    expect(k.code).toBe('KAFKA_UNAVAILABLE');
    expect(k.retryable).toBe(true);
    expect(k.message).toBe('connecting to the broker: connect ECONNREFUSED 127.0.0.1:9092');
    expect(k.cause).toBe(raw);
    const missing = new RunnerError('KAFKA_TOPIC_MISSING', 'topics missing on the broker: t');
    expect(asRunnerError(missing, 'KAFKA_UNAVAILABLE', 'checking topics')).toBe(missing);
    expect(asRunnerError('boom', 'DATABASE_UNAVAILABLE', 'reading configurations').message).toBe('reading configurations: boom');
  });

  it('error codes are unique', () => {
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
  });

  it('JSON.stringify gives the serialized form', () => {
    const e = new RunnerError('FILL_INVALID', 'bad fill', { details: { fill_id: 'f1' } });
    const json = JSON.parse(JSON.stringify(e)) as Record<string, unknown>;
    expect(json['code']).toBe('FILL_INVALID');
    expect(json['message']).toBe('bad fill');
    expect(json['details']).toEqual({ fill_id: 'f1' });
    expect(typeof json['stack']).toBe('string');
  });
});

describe('serializeError', () => {
  it('keeps code, message, details and stack of a RunnerError', () => {
    const e = new RunnerError('STRATEGY_PARAMS_INVALID', 'bad params', { details: { strategy_id: 's1', issues: [{ field: 'k' }] } });
    expect(serializeError(e)).toEqual({
      code: 'STRATEGY_PARAMS_INVALID',
      message: 'bad params',
      details: { strategy_id: 's1', issues: [{ field: 'k' }] },
      stack: e.stack,
    });
  });

  it('leaves details out when there are none', () => {
    const s = serializeError(new RunnerError('SUPERVISOR_STATE', 'x'));
    expect('details' in s).toBe(false);
  });

  it('a plain Error becomes UNEXPECTED with its name in the message', () => {
    const e = new TypeError('cannot read x of undefined');
    const s = serializeError(e);
    expect(s.code).toBe('UNEXPECTED');
    expect(s.message).toBe('TypeError: cannot read x of undefined');
    expect(s.stack).toBe(e.stack);
    expect('details' in s).toBe(false);
  });

  it('a thrown non-Error becomes UNEXPECTED with its string form', () => {
    expect(serializeError('boom')).toEqual({ code: 'UNEXPECTED', message: 'boom' });
    expect(serializeError(42)).toEqual({ code: 'UNEXPECTED', message: '42' });
    expect(serializeError(undefined)).toEqual({ code: 'UNEXPECTED', message: 'undefined' });
  });

  it('the result survives structured cloning (it crosses thread boundaries)', () => {
    const s = serializeError(new RunnerError('WORKER_EXITED', 'gone', { details: { thread: 2 } }));
    expect(structuredClone(s)).toEqual(s);
  });
});

describe('deserializeError', () => {
  it('round-trips a RunnerError: code, message, details, stack, retryable', () => {
    const original = new RunnerError('WORKER_UNRESPONSIVE', 'no answer in 5000 ms', { details: { thread: 3, method: 'health' } });
    const back = deserializeError(structuredClone(serializeError(original)));
    expect(back).toBeInstanceOf(RunnerError);
    const r = back as RunnerError;
    expect(r.code).toBe('WORKER_UNRESPONSIVE');
    expect(r.message).toBe('no answer in 5000 ms');
    expect(r.details).toEqual({ thread: 3, method: 'health' });
    expect(r.stack).toBe(original.stack);
    expect(r.retryable).toBe(true);
  });

  it('round-trips every code', () => {
    for (const code of ERROR_CODES) {
      const back = deserializeError(serializeError(new RunnerError(code, `m ${code}`)));
      expect(back).toBeInstanceOf(RunnerError);
      expect((back as RunnerError).code).toBe(code satisfies ErrorCode);
      expect((back as RunnerError).details).toEqual({});
    }
  });

  it('an UNEXPECTED error comes back as a plain Error (not a RunnerError) with message and stack', () => {
    const e = new Error('disk on fire');
    const back = deserializeError(serializeError(e));
    expect(back).toBeInstanceOf(Error);
    expect(back).not.toBeInstanceOf(RunnerError);
    expect(back.message).toBe('Error: disk on fire');
    expect(back.stack).toBe(e.stack);
  });

  it('without a stack, keeps the locally created one', () => {
    const back = deserializeError({ code: 'TICK_INVALID', message: 'm' });
    expect((back as RunnerError).code).toBe('TICK_INVALID');
    expect(typeof back.stack).toBe('string');
  });
});

describe('configuration errors and exit codes', () => {
  it('counts as a configuration error what a restart cannot mend: a bad or unreadable configuration, a strategy module that does not load or define, a broken build, a database not migrated or refusing access, a shard count that differs from the deployment\'s', () => {
    const config = ERROR_CODES.filter((c) => isConfigurationError(new RunnerError(c, 'x')));
    expect(config.sort()).toEqual([
      'CONFIG_FILE_UNREADABLE',
      'CONFIG_INVALID',
      'DATABASE_ACCESS_DENIED',
      'DATABASE_SCHEMA_MISSING',
      'SHARDS_MISMATCH',
      'STRATEGY_DEFINITION_INVALID',
      'STRATEGY_DUPLICATE_TYPE',
      'STRATEGY_MODULE_LOAD_FAILED',
      'WORKER_ENTRY_MISSING',
      'WORKER_PROTOCOL_MISMATCH',
    ]);
    // No configuration error is retryable, and nothing else is one.
    for (const c of config) expect(new RunnerError(c, 'x').retryable).toBe(false);
    expect(isConfigurationError(new Error('CONFIG_INVALID'))).toBe(false);
    expect(isConfigurationError(undefined)).toBe(false);
  });

  it('exits 78 (EX_CONFIG) for a configuration error, 1 for any other error', () => {
    expect(EXIT_CODES).toEqual({ ok: 0, failure: 1, usage: 2, config: 78, forced: 130 });
    expect(exitCodeFor(new RunnerError('CONFIG_FILE_UNREADABLE', 'x'))).toBe(78);
    expect(exitCodeFor(new RunnerError('CONFIG_INVALID', 'x'))).toBe(78);
    expect(exitCodeFor(new RunnerError('KAFKA_TOPIC_MISSING', 'x'))).toBe(1);
    expect(exitCodeFor(new RunnerError('INPUT_UNREADABLE', 'x'))).toBe(1);
    expect(exitCodeFor(new TypeError('bug'))).toBe(1);
  });
});
