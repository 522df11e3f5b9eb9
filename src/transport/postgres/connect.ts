import postgres, { type Sql } from 'postgres';
import type { Logger } from 'pino';

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
