import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Sql } from 'postgres';
import { RunnerError } from '../../errors.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

export interface MigrationReport {
  applied: string[];
  alreadyApplied: number;
  version: number;
}

/** Any constant shared by every runner: serialises concurrent `migrate` runs on one database. */
const MIGRATION_LOCK = 0x5352_4d47; // "SRMG"
const FILE = /^(\d{3,})_([a-z0-9_]+)\.sql$/;

/** The migrations in a folder, by version. Files are append-only: an applied one must never change. */
export function readMigrations(dir: string): Migration[] {
  const out: Migration[] = [];
  for (const f of readdirSync(dir).sort()) {
    const m = FILE.exec(f);
    if (m === null) continue;
    const sql = readFileSync(join(dir, f), 'utf8');
    out.push({ version: Number(m[1]), name: f, sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  for (let i = 1; i < out.length; i++) {
    if (out[i]!.version === out[i - 1]!.version) {
      throw new RunnerError('CONFIG_INVALID', `two migrations share version ${out[i]!.version}: ${out[i - 1]!.name}, ${out[i]!.name}`);
    }
  }
  return out;
}

/**
 * Apply the pending migrations in one transaction under an advisory lock,
 * recording each in `strategy_runner_migrations`. Idempotent: a second run
 * applies nothing. A migration that was applied and has since changed is an
 * error (fix forward with a new file).
 */
export async function migrate(sql: Sql, migrations: readonly Migration[], logger: Logger): Promise<MigrationReport> {
  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`;
    await tx`
      CREATE TABLE IF NOT EXISTS strategy_runner_migrations (
        version    integer     PRIMARY KEY,
        name       text        NOT NULL,
        checksum   text        NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`;
    const rows = await tx<{ version: number; name: string; checksum: string }[]>`
      SELECT version, name, checksum FROM strategy_runner_migrations ORDER BY version`;
    const done = new Map(rows.map((r) => [r.version, r]));
    const applied: string[] = [];
    for (const m of migrations) {
      const prev = done.get(m.version);
      if (prev !== undefined) {
        if (prev.checksum !== m.checksum) {
          throw new RunnerError(
            'CONFIG_INVALID',
            `migration ${m.name} was applied as ${prev.name} with different content; migrations are append-only: add a new file instead`,
            { details: { version: m.version } },
          );
        }
        continue;
      }
      logger.info({ migration: m.name }, 'applying migration');
      await tx.unsafe(m.sql);
      await tx`INSERT INTO strategy_runner_migrations (version, name, checksum) VALUES (${m.version}, ${m.name}, ${m.checksum})`;
      applied.push(m.name);
    }
    const version = migrations.length === 0 ? 0 : Math.max(...migrations.map((m) => m.version), ...rows.map((r) => r.version));
    return { applied, alreadyApplied: rows.length, version };
  });
}
