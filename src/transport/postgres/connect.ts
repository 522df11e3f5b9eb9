import postgres, { type Sql } from 'postgres';
import type { Logger } from 'pino';
import { RunnerError } from '../../errors.js';

export interface PostgresSettings {
  /** postgres://user:pass@host:port/db; DATABASE_URL by default */
  url: string;
  /** connections in the pool (the runner needs few: a catalog read, a LISTEN) */
  maxConnections: number;
  connectTimeoutS: number;
  applicationName: string;
}

/**
 * A postgres.js client. It connects lazily: call `probe()` to know the server
 * answers. Notices are logged at debug, never printed.
 */
export function connectPostgres(s: PostgresSettings, logger: Logger): Sql {
  return postgres(s.url, {
    max: s.maxConnections,
    connect_timeout: s.connectTimeoutS,
    idle_timeout: 60,
    onnotice: (n) => logger.debug({ notice: n.message }, 'postgres notice'),
    connection: { application_name: s.applicationName },
  });
}

export async function probe(sql: Sql): Promise<void> {
  await sql`SELECT 1`;
}

/** The URL with its password masked, for logs and errors. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable database URL)';
  }
}

/**
 * A PostgreSQL error as one of ours, by its SQLSTATE: what no retry can fix
 * is a configuration error (the database or the runner's table missing,
 * credentials or privileges refused: exit 78, not an endless retry); the rest
 * (connection refused, timeouts, a server shutting down) is DATABASE_UNAVAILABLE, retried.
 */
export function postgresError(err: unknown, what: string): RunnerError {
  if (err instanceof RunnerError) return err;
  const sqlstate = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : undefined;
  const message = (err as Error)?.message ?? String(err);
  const details = sqlstate === undefined ? {} : { details: { sqlstate } };
  if (sqlstate === '42P01' || sqlstate === '3F000') {
    return new RunnerError('DATABASE_SCHEMA_MISSING', `${what}: ${message} (run 'strategy-runner migrate' against this database, or point postgres.url / DATABASE_URL at the right one)`, { cause: err, ...details });
  }
  if (sqlstate === '3D000') return new RunnerError('DATABASE_SCHEMA_MISSING', `${what}: ${message} (check postgres.url / DATABASE_URL)`, { cause: err, ...details });
  if (sqlstate !== undefined && (sqlstate.startsWith('28') || sqlstate === '42501')) {
    return new RunnerError('DATABASE_ACCESS_DENIED', `${what}: ${message} (check the credentials and grants of postgres.url / DATABASE_URL)`, { cause: err, ...details });
  }
  return new RunnerError('DATABASE_UNAVAILABLE', `${what}: ${message}`, { cause: err, ...details });
}
