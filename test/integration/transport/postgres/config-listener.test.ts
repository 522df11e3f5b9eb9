import { fileURLToPath } from 'node:url';
import postgres, { type Sql } from 'postgres';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { ParsedConfigs } from '../../../../src/config/strategy-config.js';
import { ConfigChangeListener, type ConfigChangeListenerOptions, type ConfigReloadReason } from '../../../../src/transport/postgres/config-listener.js';
import { migrate, readMigrations } from '../../../../src/transport/postgres/migrator.js';
import { PostgresConfigSource } from '../../../../src/transport/postgres/postgres-config-source.js';
import { freshSchema, unique } from '../../../helpers/infra.js';
import { memoryLogger } from '../../../helpers/runtime.js';
import { insertStrategy } from '../../../helpers/service.js';

const MIGRATIONS = fileURLToPath(new URL('../../../../sql/migrations/', import.meta.url));

interface Call {
  parsed: ParsedConfigs;
  reason: ConfigReloadReason;
}

/**
 * A migrated schema and a listener on it, with its own client (a unique
 * application_name, so a test can find and kill the LISTEN connection).
 */
async function setup(options: Partial<ConfigChangeListenerOptions> = {}, load?: (source: PostgresConfigSource) => Promise<ParsedConfigs>) {
  const db = await freshSchema();
  const report = await migrate(db.sql, readMigrations(MIGRATIONS), memoryLogger('silent').logger);
  const appName = unique('cfg-listener');
  const sql: Sql = postgres(db.url, { max: 2, onnotice: () => {}, connection: { application_name: appName } });
  onTestFinished(() => sql.end({ timeout: 5 }));
  const source = new PostgresConfigSource(sql);
  const calls: Call[] = [];
  const { logger, lines } = memoryLogger('debug');
  const listener = new ConfigChangeListener(sql, load === undefined ? () => source.load() : () => load(source), (parsed, reason) => void calls.push({ parsed, reason }), {
    logger,
    debounceMs: 50,
    intervalMs: 600_000,
    ...options,
  });
  onTestFinished(() => listener.stop());
  await listener.start();
  return { db, sql, appName, report, calls, lines, listener };
}

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const last = (calls: Call[]): Call => calls.at(-1)!;
const active = (c: Call): string[] => c.parsed.configs.filter((x) => x.is_active).map((x) => x.id);
const row = (id: string, lookback = 5) => ({ id, strategy_type: 'SimpleMomentumStrategy', instruments: [256265], parameters: { lookback_period: lookback } });

describe('migration 002', () => {
  it('applies after 001 and notifies every row change with op, id and schema', async () => {
    const { db, report } = await setup();
    expect(report.applied).toEqual(['001_strategy_configurations.sql', '002_strategy_configurations_notify.sql', '003_strategy_snapshots.sql']);
    const got: unknown[] = [];
    const meta = await db.sql.listen('strategy_configurations_changed', (p) => got.push(JSON.parse(p)));
    await insertStrategy(db.sql, row('n1'));
    await db.sql`UPDATE strategy_configurations SET is_active = false WHERE id = 'n1'`;
    await db.sql`DELETE FROM strategy_configurations WHERE id = 'n1'`;
    await db.sql`TRUNCATE strategy_configurations`;
    await db.sql.begin(async (tx) => {
      await tx`INSERT INTO strategy_configurations (id, strategy_type, instruments) VALUES ('rolled', 'X', '{1}')`;
      throw new Error('roll back');
    }).catch(() => {});
    await until('4 notifications', () => got.filter((g) => (g as { schema: string }).schema === db.schema).length >= 4);
    await sleep(100);
    await meta.unlisten();
    expect(got.filter((g) => (g as { schema: string }).schema === db.schema)).toEqual([
      { op: 'INSERT', id: 'n1', schema: db.schema },
      { op: 'UPDATE', id: 'n1', schema: db.schema },
      { op: 'DELETE', id: 'n1', schema: db.schema },
      { op: 'TRUNCATE', id: null, schema: db.schema },
    ]);
  });
});

describe('ConfigChangeListener', () => {
  it('reloads on INSERT, UPDATE and DELETE, and the parsed configs reflect each change', async () => {
    const { db, calls, listener } = await setup();

    await insertStrategy(db.sql, row('a'));
    await until('the insert', () => calls.length >= 1 && active(last(calls)).includes('a'));
    expect(last(calls).reason).toBe('notify');

    await db.sql`UPDATE strategy_configurations SET parameters = '{"lookback_period": 9}' WHERE id = 'a'`;
    await until('the update', () => last(calls).parsed.configs.find((c) => c.id === 'a')?.parameters['lookback_period'] === 9);

    await db.sql`UPDATE strategy_configurations SET is_active = false WHERE id = 'a'`;
    await until('the deactivation', () => last(calls).parsed.configs.find((c) => c.id === 'a')?.is_active === false);

    await db.sql`DELETE FROM strategy_configurations WHERE id = 'a'`;
    await until('the delete', () => last(calls).parsed.configs.length === 0);

    // a row the runner cannot use is reported, not fatal
    await db.sql`INSERT INTO strategy_configurations (id, strategy_type, instruments, parameters) VALUES ('b', 'X', '{1}', '{"lookback_period": 3}')`;
    await until('the second insert', () => last(calls).parsed.configs.some((c) => c.id === 'b'));

    expect(calls.every((c) => c.reason === 'notify')).toBe(true);
    expect(listener.stats).toMatchObject({ failures: 0, lastError: null, listens: 1, lastReloadReason: 'notify' });
    expect(listener.stats.reloads).toBe(calls.length);
    expect(listener.stats.notifications).toBeGreaterThanOrEqual(5);
    expect(listener.state).toBe('listening');
    expect(Date.parse(listener.stats.lastReloadAt!)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('debounces 20 inserts in one transaction into few reloads', async () => {
    const { db, calls, listener } = await setup({ debounceMs: 150 });
    await db.sql.begin(async (tx) => {
      for (let i = 0; i < 20; i++) await tx`INSERT INTO strategy_configurations (id, strategy_type, instruments) VALUES (${`s${i}`}, 'SimpleMomentumStrategy', '{1}')`;
    });
    await until('all 20', () => calls.length >= 1 && last(calls).parsed.configs.length === 20);
    await sleep(400);
    expect(listener.stats.notifications).toBe(20);
    expect(calls.length).toBeLessThanOrEqual(3);
  });

  it('debounces 20 inserts in quick succession into few reloads', async () => {
    const { db, calls, listener } = await setup({ debounceMs: 150 });
    for (let i = 0; i < 20; i++) await insertStrategy(db.sql, row(`q${String(i).padStart(2, '0')}`));
    await until('all 20', () => calls.length >= 1 && last(calls).parsed.configs.length === 20);
    await sleep(400);
    expect(listener.stats.notifications).toBe(20);
    expect(calls.length).toBeLessThanOrEqual(3);
  });

  it('reloads periodically without any notification', async () => {
    const { db, calls } = await setup({ intervalMs: 200 });
    await insertStrategy(db.sql, row('p'));
    await until('two periodic reloads', () => calls.filter((c) => c.reason === 'periodic').length >= 2);
    expect(active(last(calls))).toEqual(['p']);
  });

  it('logs a failed reload, keeps going, and reloads at the next trigger', async () => {
    let failNext = true;
    const { db, calls, lines, listener } = await setup({}, async (source) => {
      if (failNext) {
        failNext = false;
        throw new Error('database is down (simulated)');
      }
      return source.load();
    });
    await insertStrategy(db.sql, row('f1'));
    await until('the failure', () => listener.stats.failures === 1);
    expect(calls).toEqual([]);
    expect(listener.stats.lastError).toMatchObject({ code: 'UNEXPECTED', message: expect.stringContaining('database is down'), reason: 'notify' });
    const warn = lines.find((l) => l['level'] === 40 && String(l['msg']).includes('reload failed'));
    expect(warn).toBeDefined();
    expect(JSON.stringify(warn)).toContain('database is down');

    await insertStrategy(db.sql, row('f2'));
    await until('the next reload', () => calls.length >= 1);
    expect(active(last(calls))).toEqual(['f1', 'f2']);
    expect(listener.stats).toMatchObject({ failures: 1, reloads: 1 });
    expect(listener.stats.lastError).not.toBeNull(); // the last failure stays visible
  });

  it('counts a throwing onConfigs as a failure and keeps listening', async () => {
    const db = await freshSchema();
    await migrate(db.sql, readMigrations(MIGRATIONS), memoryLogger('silent').logger);
    const source = new PostgresConfigSource(db.sql);
    let n = 0;
    const { logger, lines } = memoryLogger('debug');
    const listener = new ConfigChangeListener(
      db.sql,
      () => source.load(),
      () => {
        if (++n === 1) throw new Error('supervisor refused');
      },
      { logger, debounceMs: 30, intervalMs: 0 },
    );
    onTestFinished(() => listener.stop());
    await listener.start();
    await insertStrategy(db.sql, row('x'));
    await until('the failure', () => listener.stats.failures === 1);
    expect(lines.some((l) => l['level'] === 50 && String(l['msg']).includes('applying reloaded'))).toBe(true);
    await insertStrategy(db.sql, row('y'));
    await until('a reload', () => listener.stats.reloads === 1);
  });

  it("reloads with reason 'reconnect' after the LISTEN connection is killed", async () => {
    const { db, calls, appName, listener } = await setup();
    const admin = postgres(db.url, { max: 1, onnotice: () => {} });
    onTestFinished(() => admin.end({ timeout: 5 }));
    const killed = await admin`
      SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
      WHERE application_name = ${appName} AND query ILIKE 'listen%'`;
    expect(killed.length).toBe(1);
    await until('a reconnect reload', () => calls.some((c) => c.reason === 'reconnect'), 20_000);
    expect(listener.stats.listens).toBe(2);
    expect(listener.state).toBe('listening');

    // notifications still arrive on the new connection
    await insertStrategy(db.sql, row('after-reconnect'));
    await until('the insert', () => calls.length >= 1 && active(last(calls)).includes('after-reconnect'));

    // stop() after a reconnect: postgres.js cannot unlisten the re-registered listener, but it is inert
    await listener.stop();
    const n = calls.length;
    await insertStrategy(db.sql, row('after-stop'));
    await sleep(300);
    expect(calls.length).toBe(n);
  });

  it('ignores notifications from the same table in another schema', async () => {
    const { calls, listener } = await setup();
    const other = await freshSchema();
    await migrate(other.sql, readMigrations(MIGRATIONS), memoryLogger('silent').logger);
    await insertStrategy(other.sql, row('elsewhere'));
    await until('the foreign notification', () => listener.stats.ignoredNotifications >= 1);
    await sleep(200);
    expect(calls).toEqual([]);
  });

  it('never runs two reloads at once and coalesces requests made meanwhile into exactly one more', async () => {
    const db = await freshSchema();
    await migrate(db.sql, readMigrations(MIGRATIONS), memoryLogger('silent').logger);
    const source = new PostgresConfigSource(db.sql);
    let inFlight = 0;
    let maxInFlight = 0;
    const reasons: ConfigReloadReason[] = [];
    const listener = new ConfigChangeListener(
      db.sql,
      async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await sleep(150);
        inFlight--;
        return source.load();
      },
      (_p, reason) => void reasons.push(reason),
      { logger: memoryLogger('silent').logger, intervalMs: 0 },
    );
    onTestFinished(() => listener.stop());
    await listener.start();
    listener.requestReload('periodic');
    for (let i = 0; i < 5; i++) listener.requestReload('notify');
    listener.requestReload('reconnect');
    listener.requestReload('periodic');
    await until('two reloads', () => reasons.length >= 2);
    await sleep(300);
    expect(reasons).toEqual(['periodic', 'reconnect']);
    expect(maxInFlight).toBe(1);
  });

  it('stop() is idempotent, awaits a running reload, and nothing is delivered after it', async () => {
    const db = await freshSchema();
    await migrate(db.sql, readMigrations(MIGRATIONS), memoryLogger('silent').logger);
    const source = new PostgresConfigSource(db.sql);
    let loaded = false;
    const calls: ConfigReloadReason[] = [];
    const listener = new ConfigChangeListener(
      db.sql,
      async () => {
        await sleep(200);
        loaded = true;
        return source.load();
      },
      (_p, reason) => void calls.push(reason),
      { logger: memoryLogger('silent').logger, intervalMs: 50, debounceMs: 10 },
    );
    await listener.start();
    listener.requestReload('notify');
    await sleep(20);
    const stops = [listener.stop(), listener.stop()];
    expect(stops[0]).toBe(stops[1]);
    await Promise.all(stops);
    expect(loaded).toBe(true); // stop waited for the running load
    expect(calls).toEqual([]); // ... and did not deliver its result
    await insertStrategy(db.sql, row('late'));
    await sleep(300);
    expect(calls).toEqual([]);
    expect(listener.stats.reloading).toBe(false);
    expect(listener.state).toBe('stopped');
    await expect(listener.start()).rejects.toThrow(/after stop/);
  });
});
