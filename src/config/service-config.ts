import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { RunnerError } from '../errors.js';
import { describeIssues, formatIssueList } from './unknown-keys.js';
import { LOG_LEVELS } from '../logging/logger.js';
import { KafkaConfigSchema } from '../transport/kafka/kafka-config.js';

const OverloadPolicySchema = z.enum(['conflate', 'hold']);

/**
 * The service configuration a person writes (a JSON file, every key
 * optional). Parsing applies the defaults and yields the compiled
 * configuration the code uses: complete, with durations in `…Ms`.
 * Sections default through their own schema (`prefault`), so each default
 * is written once.
 */
export const ServiceConfigSchema = z
  .object({
    /** user strategy modules: paths (relative to this file) or package names */
    strategyModules: z.array(z.string().min(1)).default([]),
    /** where strategy configurations come from (run); replay always takes --strategies */
    strategies: z
      .object({
        source: z.enum(['postgres', 'file']).default('postgres'),
        /** the strategies file, when source is "file" (relative to this file) */
        file: z.string().min(1).nullable().default(null),
        /**
         * apply configuration changes while running: PostgreSQL NOTIFY (plus a
         * periodic re-read), or the file's changes and SIGHUP
         */
        watch: z.boolean().default(true),
        /** periodic re-read of the PostgreSQL table, in case a notification was missed; 0 = never */
        reloadIntervalMs: z.number().int().min(0).default(60_000),
        /**
         * where the last configurations read from PostgreSQL are kept (relative
         * to this file); when PostgreSQL is unreachable at start for longer
         * than fallbackAfterMs, the runner starts from this file and switches to
         * the table when it answers again. null = wait for PostgreSQL.
         */
        cacheFile: z.string().min(1).nullable().default(null),
        fallbackAfterMs: z.number().int().min(0).default(10_000),
      })
      .strict()
      .refine((s) => s.source !== 'file' || s.file !== null, { message: 'strategies.file is required when strategies.source is "file"', path: ['file'] })
      .prefault({}),
    postgres: z
      .object({
        /** postgres://…; the DATABASE_URL environment variable overrides it */
        url: z.string().min(1).nullable().default(null),
        maxConnections: z.number().int().min(1).max(100).default(4),
        connectTimeoutS: z.number().int().min(1).default(10),
        applicationName: z.string().min(1).default('strategy-runner'),
      })
      .strict()
      .prefault({}),
    kafka: KafkaConfigSchema.prefault({}),
    pool: z
      .object({
        /** threads for strategies; omitted or null = one thread per strategy */
        size: z.number().int().min(1).max(1024).nullable().default(null),
        /** heap limit (old generation) of each strategy thread, MB */
        maxHeapMb: z.number().int().min(16).nullable().default(null),
        heartbeatIntervalMs: z.number().int().min(50).default(1000),
        controlTimeoutMs: z.number().int().min(100).default(10_000),
      })
      .strict()
      .prefault({}),
    supervision: z
      .object({
        /** a strategy failing this many ticks in a row is restarted */
        maxConsecutiveErrors: z.number().int().min(1).default(10),
        /** a thread silent (no heartbeat, no answer) for this long is terminated and replaced */
        hangTimeoutMs: z.number().int().min(100).default(5000),
        /** recent ticks kept per instrument to re-warm a restarted strategy */
        rewarmTicks: z.number().int().min(0).max(100_000).default(256),
        /** live: batches a thread may have outstanding before it counts as full */
        maxQueuedBatches: z.number().int().min(1).max(10_000).default(8),
        /** replaced by overload.behindAfterMs (a bound on how far behind, not on how long full) */
        slowAfterMs: z
          .never({ error: 'supervision.slowAfterMs was replaced by supervision.overload.behindAfterMs (how far behind a thread may fall before its overload policy acts; default 10000)' })
          .optional(),
        /**
         * live: what happens to a strategy whose thread falls behind (it has
         * had unfinished batches without a break for longer than behindAfterMs):
         * `conflate` sheds its ticks (newest per instrument), `hold` makes the
         * input wait for it. Per strategy id in `strategies`.
         */
        overload: z
          .object({
            policy: OverloadPolicySchema.default('conflate'),
            behindAfterMs: z.number().int().min(10).default(10_000),
            strategies: z.record(z.string().min(1), z.object({ policy: OverloadPolicySchema.optional(), behindAfterMs: z.number().int().min(10).optional() }).strict()).default({}),
          })
          .strict()
          .prefault({}),
        restart: z
          .object({
            initialDelayMs: z.number().int().min(0).default(500),
            maxDelayMs: z.number().int().min(0).default(30_000),
            /** more than this many restarts within windowMs quarantines the strategy */
            intensity: z.number().int().min(1).default(5),
            windowMs: z.number().int().min(1000).default(60_000),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    dispatch: z
      .object({
        /** most ticks in one dispatch round (one message per thread) */
        maxBatchTicks: z.number().int().min(1).max(65_536).default(512),
        /** dispatch rounds in flight at once */
        maxInFlightRounds: z.number().int().min(1).max(1024).default(4),
      })
      .strict()
      .prefault({}),
    status: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        /** null = no status server; 0 = any free port */
        port: z.number().int().min(0).max(65_535).nullable().default(null),
        /**
         * bearer token for the operator controls (POST /control/...); null =
         * controls refused. The STRATEGY_RUNNER_CONTROL_TOKEN environment variable overrides it.
         */
        controlToken: z.string().min(16, 'use a token of at least 16 characters').nullable().default(null),
      })
      .strict()
      .prefault({}),
    log: z
      .object({
        level: z.enum(LOG_LEVELS).default('info'),
        format: z.enum(['auto', 'json', 'pretty']).default('auto'),
      })
      .strict()
      .prefault({}),
    portfolio: z
      .object({ initialCash: z.number().finite().default(0) })
      .strict()
      .prefault({}),
    /**
     * Strategy state that survives restarts (onSave/onLoad), stored in
     * PostgreSQL's strategy_snapshots (needs strategies from PostgreSQL and
     * `strategy-runner migrate`; not with kafka.shards yet).
     */
    snapshots: z
      .object({
        enabled: z.boolean().default(true),
        /** a cut every this many ms (and one at shutdown) */
        intervalMs: z.number().int().min(1000).default(60_000),
      })
      .strict()
      .prefault({}),
    shutdown: z
      .object({
        deadlineMs: z.number().int().min(100).default(10_000),
        /**
         * Time always given to closing each Kafka client, even when the
         * deadline has run out: a librdkafka client abandoned mid-close can
         * keep the process from exiting (its close blocks a libuv thread).
         */
        clientCloseMs: z.number().int().min(100).default(3_000),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type ServiceConfigInput = z.input<typeof ServiceConfigSchema>;
export type ServiceConfig = z.output<typeof ServiceConfigSchema> & {
  /** directory that relative paths in the configuration are resolved against */
  baseDir: string;
};

export function parseServiceConfig(input: unknown, source: string, baseDir: string): ServiceConfig {
  const r = ServiceConfigSchema.safeParse(input === undefined ? {} : input);
  if (!r.success) {
    const issues = describeIssues(ServiceConfigSchema, input, r.error);
    throw new RunnerError('CONFIG_INVALID', `service configuration ${source}: ${formatIssueList(issues)}`, { details: { source, issues } });
  }
  return { ...r.data, baseDir };
}

/**
 * The configuration file a command uses: its --config flag, else
 * $STRATEGY_RUNNER_CONFIG; an empty variable (`Environment=STRATEGY_RUNNER_CONFIG=`)
 * counts as unset, not as the working directory.
 */
export function configPathFrom(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (flag !== undefined) return flag;
  const fromEnv = env['STRATEGY_RUNNER_CONFIG']?.trim();
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}

/** Read a service configuration file; without a path, the defaults (relative paths resolve from the working directory). */
export function loadServiceConfig(path: string | undefined): ServiceConfig {
  if (path === undefined) return parseServiceConfig({}, 'defaults', process.cwd());
  const abs = resolve(path);
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(abs, 'utf8'));
  } catch (err) {
    throw new RunnerError('CONFIG_FILE_UNREADABLE', `cannot read service configuration ${abs}: ${(err as Error).message}`, { cause: err, details: { path: abs } });
  }
  return parseServiceConfig(doc, abs, dirname(abs));
}

/**
 * Environment variables that override the file, as deployments expect:
 * KAFKA_BROKERS (comma-separated host:port), DATABASE_URL.
 */
export function applyEnvironment(c: ServiceConfig, env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const input: Record<string, unknown> = { ...c };
  delete input['baseDir'];
  const brokers = env['KAFKA_BROKERS']?.trim();
  if (brokers) input['kafka'] = { ...c.kafka, brokers: brokers.split(',').map((b) => b.trim()).filter(Boolean) };
  const db = env['DATABASE_URL']?.trim();
  if (db) input['postgres'] = { ...c.postgres, url: db };
  const token = env['STRATEGY_RUNNER_CONTROL_TOKEN']?.trim();
  if (token) input['status'] = { ...c.status, controlToken: token };
  return parseServiceConfig(input, 'environment (KAFKA_BROKERS, DATABASE_URL, STRATEGY_RUNNER_CONTROL_TOKEN)', c.baseDir);
}
