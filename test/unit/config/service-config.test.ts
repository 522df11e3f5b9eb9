import { KafkaConfigSchema } from '../../../src/transport/kafka/kafka-config.js';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { configPathFrom, loadServiceConfig, parseServiceConfig, ServiceConfigSchema } from '../../../src/config/service-config.js';
import { RunnerError } from '../../../src/errors.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'service-config-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function thrown(fn: () => unknown): RunnerError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RunnerError);
    return err as RunnerError;
  }
  throw new Error('expected a RunnerError');
}

const DEFAULTS = {
  strategyModules: [],
  strategies: { source: 'postgres', file: null, watch: true, reloadIntervalMs: 60_000, cacheFile: null, fallbackAfterMs: 10_000 },
  postgres: { url: null, maxConnections: 4, connectTimeoutS: 10, applicationName: 'strategy-runner' },
  kafka: KafkaConfigSchema.parse({}),
  supervision: {
    maxConsecutiveErrors: 10,
    hangTimeoutMs: 5000,
    rewarmTicks: 256,
    maxQueuedBatches: 8,
    overload: { policy: 'conflate', behindAfterMs: 10_000, strategies: {} },
    restart: { initialDelayMs: 500, maxDelayMs: 30_000, intensity: 5, windowMs: 60_000 },
  },
  pool: { size: null, maxHeapMb: null, heartbeatIntervalMs: 1000, controlTimeoutMs: 10_000 },
  dispatch: { maxBatchTicks: 512, maxInFlightRounds: 4 },
  status: { host: '127.0.0.1', port: null, controlToken: null },
  log: { level: 'info', format: 'auto' },
  portfolio: { initialCash: 0 },
  snapshots: { enabled: true, intervalMs: 60_000 },
  shutdown: { deadlineMs: 10_000, clientCloseMs: 3_000 },
};

describe('parseServiceConfig defaults', () => {
  it('an empty object gives every default, plus the baseDir', () => {
    const c = parseServiceConfig({}, 'test', '/base');
    expect(c).toEqual({ ...DEFAULTS, baseDir: '/base' });
    expect(c.pool.size).toBeNull();
    expect(c.status.host).toBe('127.0.0.1');
    expect(c.status.port).toBeNull();
    expect(c.dispatch.maxBatchTicks).toBe(512);
  });

  it('undefined is an empty configuration; null (a file holding `null`) is a mistake', () => {
    expect(parseServiceConfig(undefined, 'test', '/b')).toEqual({ ...DEFAULTS, baseDir: '/b' });
    expect(() => parseServiceConfig(null, 'test', '/b')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('a partial section keeps the defaults of its other keys', () => {
    const c = parseServiceConfig({ pool: { size: 4 }, status: { port: 0 }, dispatch: { maxInFlightRounds: 8 } }, 'test', '/b');
    expect(c.pool).toEqual({ size: 4, maxHeapMb: null, heartbeatIntervalMs: 1000, controlTimeoutMs: 10_000 });
    expect(c.status).toEqual({ host: '127.0.0.1', port: 0, controlToken: null });
    expect(c.dispatch).toEqual({ maxBatchTicks: 512, maxInFlightRounds: 8 });
  });

  it('the defaults of an omitted section equal the defaults of an empty one', () => {
    const omitted = ServiceConfigSchema.parse({});
    const empty = ServiceConfigSchema.parse({ pool: {}, dispatch: {}, status: {}, log: {}, portfolio: {}, shutdown: {} });
    expect(omitted).toEqual(empty);
  });

  it('accepts explicit values', () => {
    const c = parseServiceConfig(
      { strategyModules: ['./s.mjs'], pool: { size: null, maxHeapMb: 256 }, log: { level: 'debug', format: 'json' }, portfolio: { initialCash: 1e6 } },
      'test',
      '/b',
    );
    expect(c.strategyModules).toEqual(['./s.mjs']);
    expect(c.pool.maxHeapMb).toBe(256);
    expect(c.log).toEqual({ level: 'debug', format: 'json' });
    expect(c.portfolio.initialCash).toBe(1e6);
  });
});

describe('parseServiceConfig validation', () => {
  it('rejects an unknown top-level key with CONFIG_INVALID naming the key and the source', () => {
    const e = thrown(() => parseServiceConfig({ poolSize: 2 }, 'svc.json', '/b'));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain('svc.json');
    expect(e.message).toContain('poolSize');
  });

  it('rejects an unknown nested key with its path in the message and the details', () => {
    const e = thrown(() => parseServiceConfig({ pool: { sise: 2 } }, 'svc.json', '/b'));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toMatch(/pool: .*sise/);
    expect(e.details['issues']).toEqual([expect.objectContaining({ path: 'pool' })]);
  });

  it('suggests the known key an unknown one resembles', () => {
    const nested = thrown(() => parseServiceConfig({ pool: { sise: 2 } }, 'svc.json', '/b'));
    expect(nested.message).toBe("service configuration svc.json: pool: unknown key 'sise' (did you mean 'size'?)");
    expect(nested.details['issues']).toEqual([{ path: 'pool', key: 'sise', suggestion: 'size', message: "unknown key 'sise' (did you mean 'size'?)" }]);
    const top = thrown(() => parseServiceConfig({ strategyModule: ['./x.mjs'] }, 'svc.json', '/b'));
    expect(top.message).toBe("service configuration svc.json: unknown key 'strategyModule' (did you mean 'strategyModules'?)");
    const kafka = thrown(() => parseServiceConfig({ kafka: { topics: { tick: 'x' } } }, 'svc.json', '/b'));
    expect(kafka.message).toContain("kafka.topics: unknown key 'tick' (did you mean 'ticks'?)");
  });

  it.each([
    ['kafka.consumer.warmupTimeoutMs', { warmupTimeoutMs: 5000 }, 'the warm-up is now part of the stream'],
    ['kafka.consumer.cacheMs', { cacheMs: 50 }, "the consumers now use the client's low-level API"],
  ])('a removed key (%s) is refused with what replaced it', (path, consumer, why) => {
    const e = thrown(() => parseServiceConfig({ kafka: { consumer } }, 'svc.json', '/b'));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain(path);
    expect(e.message).toContain(why);
    expect(e.message).toContain('delete the key');
  });

  it('a bad value names its full path', () => {
    const e = thrown(() => parseServiceConfig({ dispatch: { maxBatchTicks: 0 } }, 'svc.json', '/b'));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain('dispatch.maxBatchTicks');
    expect(e.details).toMatchObject({ source: 'svc.json', issues: [expect.objectContaining({ path: 'dispatch.maxBatchTicks' })] });
  });

  it.each([
    ['pool.size 0', { pool: { size: 0 } }, 'pool.size'],
    ['pool.size 1.5', { pool: { size: 1.5 } }, 'pool.size'],
    ['pool.size 1025', { pool: { size: 1025 } }, 'pool.size'],
    ['pool.maxHeapMb 15', { pool: { maxHeapMb: 15 } }, 'pool.maxHeapMb'],
    ['pool.heartbeatIntervalMs 49', { pool: { heartbeatIntervalMs: 49 } }, 'pool.heartbeatIntervalMs'],
    ['status.port 65536', { status: { port: 65_536 } }, 'status.port'],
    ['status.port -1', { status: { port: -1 } }, 'status.port'],
    ['status.host ""', { status: { host: '' } }, 'status.host'],
    ['log.level "loud"', { log: { level: 'loud' } }, 'log.level'],
    ['strategyModules [""]', { strategyModules: [''] }, 'strategyModules.0'],
    ['shutdown.deadlineMs 99', { shutdown: { deadlineMs: 99 } }, 'shutdown.deadlineMs'],
    ['shutdown.clientCloseMs 50', { shutdown: { clientCloseMs: 50 } }, 'shutdown.clientCloseMs'],
    ['portfolio.initialCash Infinity', { portfolio: { initialCash: Infinity } }, 'portfolio.initialCash'],
    ['snapshots.intervalMs below a second', { snapshots: { intervalMs: 500 } }, 'snapshots.intervalMs'],
  ])('rejects %s', (_what, input, path) => {
    const e = thrown(() => parseServiceConfig(input, 'x', '/b'));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain(path);
  });

  it('accepts the bounds: pool.size 1 and 1024, status.port 0 and 65535', () => {
    expect(parseServiceConfig({ pool: { size: 1 } }, 'x', '/b').pool.size).toBe(1);
    expect(parseServiceConfig({ pool: { size: 1024 } }, 'x', '/b').pool.size).toBe(1024);
    expect(parseServiceConfig({ status: { port: 0 } }, 'x', '/b').status.port).toBe(0);
    expect(parseServiceConfig({ status: { port: 65_535 } }, 'x', '/b').status.port).toBe(65_535);
  });

  it('rejects a configuration that is not an object', () => {
    expect(thrown(() => parseServiceConfig([], 'x', '/b')).code).toBe('CONFIG_INVALID');
    expect(thrown(() => parseServiceConfig('pool', 'x', '/b')).code).toBe('CONFIG_INVALID');
  });
});

describe('configPathFrom', () => {
  it('takes --config, else $STRATEGY_RUNNER_CONFIG; an empty variable is unset', () => {
    expect(configPathFrom('/etc/a.json', { STRATEGY_RUNNER_CONFIG: '/etc/b.json' })).toBe('/etc/a.json');
    expect(configPathFrom(undefined, { STRATEGY_RUNNER_CONFIG: '/etc/b.json' })).toBe('/etc/b.json');
    expect(configPathFrom(undefined, { STRATEGY_RUNNER_CONFIG: '' })).toBeUndefined();
    expect(configPathFrom(undefined, { STRATEGY_RUNNER_CONFIG: '  ' })).toBeUndefined();
    expect(configPathFrom(undefined, {})).toBeUndefined();
  });
});

describe('loadServiceConfig', () => {
  it('without a path: the defaults, relative to the working directory', () => {
    expect(loadServiceConfig(undefined)).toEqual({ ...DEFAULTS, baseDir: process.cwd() });
  });

  it('reads a file and sets baseDir to the file’s directory', () => {
    const sub = join(dir, 'conf');
    mkdirSync(sub, { recursive: true });
    const p = join(sub, 'service.json');
    writeFileSync(p, JSON.stringify({ strategyModules: ['./my.mjs'], pool: { size: 2 } }));
    const c = loadServiceConfig(p);
    expect(c.baseDir).toBe(sub);
    expect(c.pool.size).toBe(2);
    expect(c.strategyModules).toEqual(['./my.mjs']);
  });

  it('resolves a relative path from the working directory', () => {
    const p = join(dir, 'relative.json');
    writeFileSync(p, '{}');
    const c = loadServiceConfig(relative(process.cwd(), p));
    expect(c.baseDir).toBe(dir);
  });

  it('a missing file is CONFIG_FILE_UNREADABLE with the absolute path', () => {
    const p = join(dir, 'missing.json');
    const e = thrown(() => loadServiceConfig(p));
    expect(e.code).toBe('CONFIG_FILE_UNREADABLE');
    expect(e.message).toContain(p);
    expect(e.details).toEqual({ path: p });
  });

  it('a file that is not JSON is CONFIG_FILE_UNREADABLE', () => {
    const p = join(dir, 'broken.json');
    writeFileSync(p, '{ "pool": ');
    expect(thrown(() => loadServiceConfig(p)).code).toBe('CONFIG_FILE_UNREADABLE');
  });

  it('a readable file with a bad value is CONFIG_INVALID naming the file', () => {
    const p = join(dir, 'bad-value.json');
    writeFileSync(p, JSON.stringify({ pool: { size: 0 } }));
    const e = thrown(() => loadServiceConfig(p));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain(p);
    expect(e.message).toContain('pool.size');
  });
});

describe('kafka.delivery', () => {
  it('at-least-once by default; exactly-once with shards, with its transaction defaults', () => {
    expect(parseServiceConfig({}, 'test', '/b').kafka.delivery).toBe('at-least-once');
    const c = parseServiceConfig({ kafka: { delivery: 'exactly-once', shards: { enabled: true } } }, 'test', '/b');
    expect(c.kafka.delivery).toBe('exactly-once');
    expect(c.kafka.transactions).toMatchObject({ commitIntervalMs: 100, maxRounds: 100, positionIntervalMs: 1000, timeoutMs: 10_000, concurrency: 2 });
  });

  it('exactly-once without shards is a configuration error naming kafka.delivery and what it needs', () => {
    const err = thrown(() => parseServiceConfig({ kafka: { delivery: 'exactly-once' } }, 'config.json', '/b'));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('kafka.delivery');
    expect(err.message).toContain('kafka.shards.enabled');
  });
});
