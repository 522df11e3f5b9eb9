import type { SnapshotBook } from '../snapshots/snapshot-book.js';
import type { FillModelOptions } from '../backtest/fill-model.js';
import type { Logger } from 'pino';
import type { ParsedConfigs } from '../config/strategy-config.js';
import type { ServiceConfig } from '../config/service-config.js';
import { logWriterOf } from '../logging/logger.js';
import { createMetrics, type MetricSources } from '../status/metrics.js';
import { StatusServer, type Readiness } from '../status/status-server.js';
import { StrategyRegistry } from '../strategies/registry.js';
import { Supervisor, type StartReport } from '../supervision/supervisor.js';
import { resolveWorkerEntry } from '../supervision/worker-entry.js';
import { RunnerError, type ErrorCode } from '../errors.js';
import type { StatusSections } from '../status/status-document.js';

export interface Runtime {
  readonly registry: StrategyRegistry;
  readonly supervisor: Supervisor;
  readonly report: StartReport;
  /** the status server's port, when one runs */
  readonly statusPort: number | undefined;
  /** Stop the status server and the threads (each thread gets `deadlineMs`, default shutdown.deadlineMs). */
  close(deadlineMs?: number): Promise<void>;
}

export interface RuntimeOptions {
  config: ServiceConfig;
  /**
   * The strategy configurations, or how to load them: a loader runs after
   * the status server is up, so /readyz can say what the start waits for (a
   * database that does not answer) instead of refusing connections.
   */
  configs: ParsedConfigs | (() => Promise<ParsedConfigs>);
  /** what supervision decisions run on: `event` for replay (see SupervisorOptions.clock) */
  clock?: 'wall' | 'event';
  /** live: the snapshots strategies continue from when they start (it gets the registry here) */
  snapshots?: SnapshotBook;
  /** backtest: the fill model each strategy thread simulates */
  backtest?: FillModelOptions;
  logger: Logger;
  /** extra sections for /status (pipeline counters, input progress, ...) */
  statusExtra?: () => StatusSections;
  /** why the command is not ready beyond its threads (a consumer's assignment, the broker); empty = ready */
  notReadyReasons?: () => string[];
  /** conditions an operator should know of that do not make it unready (a database away while running) */
  warnings?: () => string[];
  /** the pipeline's, consumer's and producer's counters for /metrics */
  metrics?: Omit<MetricSources, 'status' | 'ready'>;
}

/**
 * The composition shared by every command that runs strategies: registry,
 * supervisor and threads, status server (first, so that it answers while the
 * rest starts). Configuration entries that failed validation are logged with
 * what and where, and the rest start.
 */
export async function startRuntime(o: RuntimeOptions): Promise<Runtime> {
  const { config, logger } = o;
  const registry = await StrategyRegistry.create(config.strategyModules, config.baseDir);
  o.snapshots?.useRegistry(registry);
  const supervisor = new Supervisor({
    registry,
    modules: config.strategyModules,
    baseDir: config.baseDir,
    ...(config.pool.size === null ? {} : { poolSize: config.pool.size }),
    ...(config.pool.maxHeapMb === null ? {} : { maxHeapMb: config.pool.maxHeapMb }),
    heartbeatIntervalMs: config.pool.heartbeatIntervalMs,
    controlTimeoutMs: config.pool.controlTimeoutMs,
    initialCash: config.portfolio.initialCash,
    supervision: config.supervision,
    ...(o.clock === undefined ? {} : { clock: o.clock }),
    ...(o.backtest === undefined ? {} : { backtest: o.backtest }),
    ...(o.snapshots === undefined ? {} : { snapshots: o.snapshots }),
    recordAllTicks: config.kafka.shards.enabled,
    logLevel: config.log.level,
    logger,
    writeLog: logWriterOf(logger),
    workerFile: resolveWorkerEntry(),
  });
  const startedAt = Date.now();
  let status: StatusServer | undefined;
  let statusPort: number | undefined;
  let configs: ParsedConfigs | undefined;
  try {
    const readiness = (): Readiness => {
      // The command's reasons first: what it waits for (a database, a broker) explains the rest.
      const reasons: string[] = [...(o.notReadyReasons?.() ?? [])];
      if (supervisor.state === 'created') reasons.push('strategies not started yet');
      else if (supervisor.state !== 'running') reasons.push(`supervisor ${supervisor.state}`);
      for (const t of supervisor.threads) if (t.state !== 'ready') reasons.push(`strategy thread ${t.index} ${t.state}`);
      return { ready: reasons.length === 0, reasons, warnings: o.warnings?.() ?? [] };
    };
    const ready = (): boolean => readiness().ready;
    if (config.status.port !== null) {
      const registry = createMetrics({ ...o.metrics, status: () => supervisor.status(), ready });
      status = new StatusServer(
        {
          status: async () => ({
            service: 'strategy-runner',
            pid: process.pid,
            uptime_s: Math.round((Date.now() - startedAt) / 1000),
            readiness: readiness(),
            ...(await supervisor.status()),
            config_errors: (configs?.errors ?? []).map((e) => ({ code: e.code, error: e.message })),
            ...(o.statusExtra?.() ?? {}),
          }),
          healthy: () => supervisor.state === 'running',
          readiness,
          metrics: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
          controlToken: config.status.controlToken,
          control: {
            restart: (id) => supervisor.restartStrategy(id),
            resume: (id) => supervisor.resumeStrategy(id),
            state: (id) => supervisor.strategyState(id),
          },
        },
        logger,
      );
      statusPort = (await status.listen(config.status.port, config.status.host)).port;
    }
    configs = typeof o.configs === 'function' ? await o.configs() : o.configs;
    for (const err of configs.errors) logger.error({ code: err.code, details: err.details }, err.message);
    const report = await supervisor.start(configs.configs);
    const broken = installationFailure(report);
    if (broken !== undefined) throw broken;
    return {
      registry,
      supervisor,
      report,
      statusPort,
      close: async (deadlineMs = config.shutdown.deadlineMs) => {
        await status?.close();
        await supervisor.stop(deadlineMs);
      },
    };
  } catch (err) {
    await status?.close();
    await supervisor.stop(config.shutdown.deadlineMs);
    throw err;
  }
}

/** Codes with which a thread fails to start whatever strategy it holds: the build, not a strategy, is wrong. */
const INSTALLATION_CODES: ReadonlySet<string> = new Set(['WORKER_PROTOCOL_MISMATCH', 'WORKER_ENTRY_MISSING']);

/**
 * A start where nothing runs and every strategy was refused because its
 * thread could not start (a half-updated build): an error of the whole
 * installation (exit 78 through its code), not a strategy to skip. One
 * strategy's own failure never ends the service.
 */
export function installationFailure(report: StartReport): RunnerError | undefined {
  if (report.running.length > 0 || report.rejected.length === 0) return undefined;
  if (!report.rejected.every((r) => INSTALLATION_CODES.has(r.error.code))) return undefined;
  const first = report.rejected[0]!.error;
  return new RunnerError(first.code as ErrorCode, `no strategy can run: ${first.message}`, { details: { ...first.details, strategies: report.rejected.map((r) => r.strategyId) } });
}
