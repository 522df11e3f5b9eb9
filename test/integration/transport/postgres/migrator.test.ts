import { writeFileSync, mkdtempSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { migrate, readMigrations } from '../../../../src/transport/postgres/migrator.js';
import { PostgresConfigSource } from '../../../../src/transport/postgres/postgres-config-source.js';
import { freshSchema } from '../../../helpers/infra.js';
import { memoryLogger } from '../../../helpers/runtime.js';

const MIGRATIONS = fileURLToPath(new URL('../../../../sql/migrations/', import.meta.url));
const log = memoryLogger('silent').logger;
const ALL = ['001_strategy_configurations.sql', '002_strategy_configurations_notify.sql', '003_strategy_snapshots.sql'];

describe('migrations', () => {
  it('apply once, are recorded, and a second run applies nothing', async () => {
    const { sql } = await freshSchema();
    const first = await migrate(sql, readMigrations(MIGRATIONS), log);
    expect(first.applied).toEqual(ALL);
    const second = await migrate(sql, readMigrations(MIGRATIONS), log);
    expect(second.applied).toEqual([]);
    expect(second.alreadyApplied).toBe(ALL.length);
    const rows = await sql`SELECT version, name FROM strategy_runner_migrations`;
    expect(rows.map((r) => r['name'])).toEqual(ALL);
  });

  it('run concurrently without applying anything twice (advisory lock)', async () => {
    const { sql } = await freshSchema();
    const results = await Promise.all([1, 2, 3].map(() => migrate(sql, readMigrations(MIGRATIONS), log)));
    expect(results.flatMap((r) => r.applied)).toEqual(ALL);
  });

  it('refuse an applied migration whose file changed', async () => {
    const { sql } = await freshSchema();
    const dir = mkdtempSync(join(tmpdir(), 'sr-mig-'));
    copyFileSync(join(MIGRATIONS, '001_strategy_configurations.sql'), join(dir, '001_strategy_configurations.sql'));
    await migrate(sql, readMigrations(dir), log);
    writeFileSync(join(dir, '001_strategy_configurations.sql'), '-- edited\nSELECT 1;');
    await expect(migrate(sql, readMigrations(dir), log)).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('append-only') });
  });
});

describe('strategy_configurations constraints', () => {
  it('reject impossible rows', async () => {
    const { sql } = await freshSchema();
    await migrate(sql, readMigrations(MIGRATIONS), log);
    const bad: [string, () => Promise<unknown>][] = [
      ['empty id', () => sql`INSERT INTO strategy_configurations (id, strategy_type, instruments) VALUES ('', 'X', '{1}')`],
      ['empty type', () => sql`INSERT INTO strategy_configurations (id, strategy_type, instruments) VALUES ('a', '', '{1}')`],
      ['no instruments', () => sql`INSERT INTO strategy_configurations (id, strategy_type, instruments) VALUES ('a', 'X', '{}')`],
      ['null instrument', () => sql`INSERT INTO strategy_configurations (id, strategy_type, instruments) VALUES ('a', 'X', '{1,NULL}')`],
      ['negative instrument', () => sql`INSERT INTO strategy_configurations (id, strategy_type, instruments) VALUES ('a', 'X', '{-5}')`],
      ['parameters not an object', () => sql`INSERT INTO strategy_configurations (id, strategy_type, instruments, parameters) VALUES ('a', 'X', '{1}', '[1,2]')`],
      ['null broker', () => sql`INSERT INTO strategy_configurations (id, strategy_type, instruments, brokers) VALUES ('a', 'X', '{1}', '{paper,NULL}')`],
      ['no brokers', () => sql`INSERT INTO strategy_configurations (id, strategy_type, instruments, brokers) VALUES ('a', 'X', '{1}', '{}')`],
      ['broker with a dot', () => sql`INSERT INTO strategy_configurations (id, strategy_type, instruments, brokers) VALUES ('a', 'X', '{1}', '{"pa.per"}')`],
      ['broker with a comma', () => sql`INSERT INTO strategy_configurations (id, strategy_type, instruments, brokers) VALUES ('a', 'X', '{1}', '{"a,b"}')`],
    ];
    for (const [what, insert] of bad) await expect(insert(), what).rejects.toMatchObject({ code: '23514' });
    await sql`INSERT INTO strategy_configurations (id, strategy_type, instruments, brokers) VALUES ('ok', 'X', '{256265, 260105}', '{paper,zerodha}')`;
    const [row] = await sql`SELECT is_active, parameters, brokers, updated_at FROM strategy_configurations`;
    expect(row).toMatchObject({ is_active: true, parameters: {}, brokers: ['paper', 'zerodha'] });
  });

  it('are read by the config source: valid rows parsed, a row the runner cannot use reported with its id', async () => {
    const { sql } = await freshSchema();
    await migrate(sql, readMigrations(MIGRATIONS), log);
    // Beyond 2^53 − 1 a token cannot be represented exactly in JavaScript: the constraint refuses it.
    await expect(sql`INSERT INTO strategy_configurations (id, strategy_type, instruments) VALUES ('huge', 'X', '{9007199254740993}')`).rejects.toMatchObject({ code: '23514' });
    await sql`INSERT INTO strategy_configurations (id, strategy_type, instruments, parameters, is_active) VALUES
      ('m1', 'SimpleMomentumStrategy', '{256265}', '{"lookback_period": 5}', true),
      ('off', 'MeanReversionStrategy', '{260105}', '{}', false)`;
    await sql`INSERT INTO strategy_configurations (id, strategy_type, instruments) VALUES ('big', 'SimpleMomentumStrategy', '{9007199254740991}')`;
    const parsed = await new PostgresConfigSource(sql).load();
    expect(parsed.configs.map((c) => [c.id, c.is_active, c.instruments])).toEqual([
      ['big', true, [9007199254740991]],
      ['m1', true, [256265]],
      ['off', false, [260105]],
    ]);
    expect(parsed.configs.find((c) => c.id === 'm1')!.parameters).toEqual({ lookback_period: 5 });
    expect(parsed.errors).toEqual([]);
  });
});
