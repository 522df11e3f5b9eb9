import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { freshSchema } from '../../helpers/infra.js';
import { CLI } from '../../helpers/service.js';

const run = promisify(execFile);

describe('strategy-runner migrate', () => {
  it('creates the schema once; a second run applies nothing', async () => {
    const { url, sql } = await freshSchema();
    const env = { ...process.env, DATABASE_URL: url };
    const first = await run(process.execPath, [CLI, 'migrate'], { env });
    expect(first.stdout).toMatch(/applied 001_strategy_configurations\.sql, 002_strategy_configurations_notify\.sql, 003_strategy_snapshots\.sql to postgres:\/\/.* \(now version 3\)/);
    const second = await run(process.execPath, [CLI, 'migrate'], { env });
    expect(second.stdout).toMatch(/is up to date \(version 3\)/);
    const [{ n }] = (await sql`SELECT count(*)::int AS n FROM strategy_configurations`) as unknown as [{ n: number }];
    expect(n).toBe(0);
  });

  it('fails clearly without a database', async () => {
    const err = await run(process.execPath, [CLI, 'migrate'], { env: { ...process.env, DATABASE_URL: '' } }).catch((e: { code: number; stderr: string }) => e);
    // A configuration error: exit 78 (EX_CONFIG), not restarted by systemd or pm2.
    expect(err).toMatchObject({ code: 78 });
    expect((err as { stderr: string }).stderr).toContain('[CONFIG_INVALID] no database: set DATABASE_URL');
  });
});
