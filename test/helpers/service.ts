import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';
import { Service } from '../../src/app/service.js';
import { parseServiceConfig, type ServiceConfigInput } from '../../src/config/service-config.js';
import { migrate, readMigrations } from '../../src/transport/postgres/migrator.js';
import type { StrategyConfigInput } from '../../src/config/strategy-config.js';
import { createTopics, freshSchema, kafkaBrokers, unique } from './infra.js';
import { FIXTURES, memoryLogger } from './runtime.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = join(ROOT, 'dist/src/cli/main.js');

/** Unique topics and group for one test, created on the test broker. */
export interface TestTopics {
  ticks: string;
  fills: string;
  deadLetter: string;
  /** the signals topic template */
  signals: string;
  signalTopic(broker: string): string;
  groupId: string;
}

export async function testTopics(brokers: readonly string[] = ['paper'], ticksPartitions = 3): Promise<TestTopics> {
  const p = unique('t');
  const t: TestTopics = {
    ticks: `${p}.market.ticks`,
    fills: `${p}.orders.filled`,
    deadLetter: `${p}.dlq`,
    signals: `${p}.{broker}.signals.raw`,
    signalTopic: (b) => `${p}.${b}.signals.raw`,
    groupId: `${p}.runner`,
  };
  await createTopics([t.ticks], ticksPartitions);
  await createTopics([t.fills, t.deadLetter, ...brokers.map((b) => t.signalTopic(b))], 1);
  return t;
}

/** A migrated schema holding these strategy rows; returns its URL and a client. */
export async function strategyDatabase(rows: StrategyConfigInput[]): Promise<Awaited<ReturnType<typeof freshSchema>>> {
  const db = await freshSchema();
  await migrate(db.sql, readMigrations(join(ROOT, 'sql/migrations')), memoryLogger('silent').logger);
  for (const r of rows) await insertStrategy(db.sql, r);
  return db;
}

export async function insertStrategy(sql: Awaited<ReturnType<typeof freshSchema>>['sql'], r: StrategyConfigInput): Promise<void> {
  await sql`
    INSERT INTO strategy_configurations (id, strategy_type, instruments, parameters, is_active, brokers)
    VALUES (${r.id}, ${r.strategy_type}, ${r.instruments as number[]}, ${sql.json((r.parameters ?? {}) as never)}, ${r.is_active ?? true}, ${(r.brokers ?? ['paper']) as string[]})`;
}

/** The service configuration for a test: its topics, its database, fast commits. */
export function serviceConfigInput(t: TestTopics, databaseUrl: string, extra: ServiceConfigInput = {}): ServiceConfigInput {
  return {
    strategyModules: ['./strategies/faulty.mjs', './strategies/portfolio-aware.mjs'],
    postgres: { url: databaseUrl },
    status: { port: 0 },
    log: { level: 'warn', format: 'json' },
    ...extra,
    kafka: {
      brokers: kafkaBrokers(),
      groupId: t.groupId,
      topics: { ticks: t.ticks, fills: t.fills, deadLetter: t.deadLetter, signals: t.signals },
      consumer: { commitIntervalMs: 200, fetchWaitMaxMs: 20 },
      ...(extra.kafka ?? {}),
    },
  };
}

/** Start the service in this process; stopped when the test finishes. */
export async function startService(input: ServiceConfigInput): Promise<{ service: Service; lines: Record<string, unknown>[] }> {
  const { logger, lines } = memoryLogger('info');
  const service = new Service(parseServiceConfig(input, 'test', FIXTURES), logger);
  onTestFinished(async () => {
    await service.stop();
  });
  await service.start();
  return { service, lines };
}

/** Poll until cond() holds. */
export async function eventually<T>(what: string, fn: () => Promise<T> | T, cond: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const t0 = Date.now();
  let last: T = await fn();
  while (!cond(last)) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(last)?.slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 100));
    last = await fn();
  }
  return last;
}

/** `strategy-runner run` as a child process (compiled CLI), with a config file; resolves once it is ready. */
export async function spawnRunner(input: ServiceConfigInput): Promise<{ child: ChildProcess; port: number; exited: Promise<number | null>; stdout: () => string }> {
  const dir = mkdtempSync(join(tmpdir(), 'sr-run-'));
  const cfg = join(dir, 'config.json');
  writeFileSync(cfg, JSON.stringify({ ...input, strategyModules: (input.strategyModules ?? []).map((m) => join(FIXTURES, m)), log: { level: 'info', format: 'json' } }));
  const child = spawn(process.execPath, [CLI, 'run', '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KAFKA_BROKERS: '', DATABASE_URL: '' } });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  // SR_TEST_RUNNER_LOG=FILE keeps every runner's output (appended), for debugging a failed test.
  const logFile = process.env['SR_TEST_RUNNER_LOG'];
  if (logFile) {
    child.stdout!.on('data', (d: Buffer) => appendFileSync(logFile, d));
    child.stderr!.on('data', (d: Buffer) => appendFileSync(logFile, d));
  }
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`runner did not start in 60 s\nstdout:\n${out.slice(-4000)}\nstderr:\n${err.slice(-4000)}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"msg":"status server listening"/.test(out) ? /"port":(\d+),"msg":"status server listening"/.exec(out) : null;
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`runner exited with ${code} before it was ready\nstdout:\n${out.slice(-4000)}\nstderr:\n${err.slice(-4000)}`));
    });
  });
  try {
    await eventually('runner ready', () => fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status).catch(() => 0), (s) => s === 200, 60_000);
  } catch (e) {
    throw new Error(`${(e as Error).message}\nstdout:\n${out.slice(-6000)}\nstderr:\n${err.slice(-3000)}`);
  }
  return { child, port, exited, stdout: () => out };
}
