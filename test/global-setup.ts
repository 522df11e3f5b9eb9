import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';

/**
 * Before any test file runs:
 *  1. compile src/ and workers/ to dist/ (threads and CLI subprocesses run compiled JavaScript);
 *  2. a Kafka broker: KAFKA_BROKERS if given, else a single-node KRaft broker
 *     started by scripts/test-env/kafka.sh (stopped again at the end);
 *  3. a PostgreSQL database: DATABASE_URL if given, else a fresh database on
 *     the local server (started if it is down), dropped at the end.
 * The addresses reach the tests as TEST_KAFKA_BROKERS and TEST_DATABASE_URL.
 * STRATEGY_RUNNER_SKIP_BUILD=1 skips 1; TEST_INFRA=0 skips 2 and 3 (unit tests only).
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const kafkaScript = fileURLToPath(new URL('../scripts/test-env/kafka.sh', import.meta.url));

export default async function setup(): Promise<() => Promise<void>> {
  if (process.env['STRATEGY_RUNNER_SKIP_BUILD'] !== '1') {
    execFileSync(process.execPath, [fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url)), '-p', 'tsconfig.build.json'], {
      cwd: root,
      stdio: 'inherit',
    });
  }
  const teardown: (() => Promise<void> | void)[] = [];
  if (process.env['TEST_INFRA'] !== '0') {
    teardown.push(startKafka());
    teardown.push(await createDatabase());
  }
  return async () => {
    for (const t of teardown.reverse()) await t();
  };
}

function startKafka(): () => void {
  const given = process.env['KAFKA_BROKERS'];
  if (given) {
    process.env['TEST_KAFKA_BROKERS'] = given;
    return () => {};
  }
  // A broker this checkout already runs (a developer's `kafka.sh start`) is reused and left running.
  let reused = true;
  try {
    execFileSync('bash', [kafkaScript, 'status'], { cwd: root, stdio: 'ignore' });
  } catch {
    reused = false;
  }
  const out = execFileSync('bash', [kafkaScript, 'start'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const m = /KAFKA_BROKERS=(\S+)/.exec(out);
  if (m === null) throw new Error(`kafka.sh start printed no KAFKA_BROKERS:\n${out}`);
  process.env['TEST_KAFKA_BROKERS'] = m[1];
  return () => {
    if (!reused) execFileSync('bash', [kafkaScript, 'stop'], { cwd: root, stdio: 'inherit' });
  };
}

async function createDatabase(): Promise<() => Promise<void>> {
  const given = process.env['DATABASE_URL'];
  if (given) {
    process.env['TEST_DATABASE_URL'] = given;
    return async () => {};
  }
  const admin = 'postgres://postgres@127.0.0.1:5432/postgres';
  await ensurePostgresRunning(admin);
  const name = `sr_test_${process.pid}_${Date.now().toString(36)}`;
  const sql = postgres(admin, { max: 1, onnotice: () => {} });
  await sql.unsafe(`CREATE DATABASE ${name}`);
  await sql.end();
  process.env['TEST_DATABASE_URL'] = `postgres://postgres@127.0.0.1:5432/${name}`;
  return async () => {
    const s = postgres(admin, { max: 1, onnotice: () => {} });
    await s.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await s.end();
  };
}

/** Start the machine's PostgreSQL cluster when it does not answer (as a newcomer would, per the README). */
async function ensurePostgresRunning(url: string): Promise<void> {
  if (await answers(url)) return;
  const etc = '/etc/postgresql';
  if (existsSync(etc)) {
    for (const version of readdirSync(etc)) {
      try {
        execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], { stdio: 'inherit' });
      } catch {
        /* reported below if still down */
      }
    }
  }
  for (let i = 0; i < 50; i++) {
    if (await answers(url)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`PostgreSQL does not answer at ${url}; start it, or set DATABASE_URL to a database the tests may use`);
}

async function answers(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
  try {
    await sql`SELECT 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}
