import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { applyEnvironment, configPathFrom, loadServiceConfig } from '../../config/service-config.js';
import { packageRoot } from '../../app/package-root.js';
import { RunnerError } from '../../errors.js';
import { createLogger } from '../../logging/logger.js';
import { connectPostgres, redactUrl } from '../../transport/postgres/connect.js';
import { migrate, readMigrations } from '../../transport/postgres/migrator.js';

export const MIGRATE_USAGE = `Usage: strategy-runner migrate [--config FILE]

Applies the SQL migrations shipped in sql/migrations/ to the database
(DATABASE_URL, or postgres.url in the configuration), in one transaction under
an advisory lock, recording each in strategy_runner_migrations. Running it
again applies nothing.

Options:
  --config FILE   service configuration (JSON)
  -h, --help      this help
`;

/** The migrations shipped with the package. */
export const MIGRATIONS_DIR = join(packageRoot(), 'sql', 'migrations');

export async function migrateCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } }, strict: true });
  if (values.help) {
    process.stdout.write(MIGRATE_USAGE);
    return 0;
  }
  const config = applyEnvironment(loadServiceConfig(configPathFrom(values.config)));
  const logger = createLogger({ level: config.log.level, fd: 2, format: config.log.format });
  const url = config.postgres.url;
  if (url === null) throw new RunnerError('CONFIG_INVALID', 'no database: set DATABASE_URL or postgres.url');
  const sql = connectPostgres({ ...config.postgres, url, maxConnections: 1 }, logger);
  try {
    const report = await migrate(sql, readMigrations(MIGRATIONS_DIR), logger).catch((err: unknown) => {
      if (err instanceof RunnerError) throw err;
      throw new RunnerError('DATABASE_UNAVAILABLE', `migrating ${redactUrl(url)} failed: ${(err as Error).message}`, { cause: err });
    });
    process.stdout.write(
      report.applied.length === 0
        ? `database ${redactUrl(url)} is up to date (version ${report.version})\n`
        : `applied ${report.applied.join(', ')} to ${redactUrl(url)} (now version ${report.version})\n`,
    );
    return 0;
  } finally {
    await sql.end({ timeout: 5 });
  }
}
