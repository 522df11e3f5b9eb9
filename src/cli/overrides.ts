import { parseServiceConfig, type ServiceConfig } from '../config/service-config.js';
import { LOG_LEVELS, type LogLevel } from '../logging/logger.js';
import { intOption, UsageError } from './usage-error.js';

/** Flags every strategy-running command takes. */
export const COMMON_OPTIONS = {
  config: { type: 'string' },
  'pool-size': { type: 'string' },
  'status-port': { type: 'string' },
  'log-level': { type: 'string' },
} as const;

export interface CommonValues {
  config?: string | undefined;
  'pool-size'?: string | undefined;
  'status-port'?: string | undefined;
  'log-level'?: string | undefined;
  'batch-size'?: string | undefined;
}

/** Command-line flags win over the configuration file; the result is validated again. */
export function withOverrides(c: ServiceConfig, v: CommonValues, extra: Record<string, unknown> = {}): ServiceConfig {
  const logLevel = v['log-level'];
  if (logLevel !== undefined && !(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got '${logLevel}'`);
  }
  const poolSize = intOption('pool-size', v['pool-size'], 1);
  const batchSize = intOption('batch-size', v['batch-size'], 1);
  const statusPort = intOption('status-port', v['status-port'], 0);
  const input: Record<string, unknown> = {
    ...c,
    pool: { ...c.pool, ...(poolSize === undefined ? {} : { size: poolSize }) },
    dispatch: { ...c.dispatch, ...(batchSize === undefined ? {} : { maxBatchTicks: batchSize }) },
    status: { ...c.status, ...(statusPort === undefined ? {} : { port: statusPort }) },
    log: { ...c.log, ...(logLevel === undefined ? {} : { level: logLevel as LogLevel }) },
    ...extra,
  };
  delete input['baseDir'];
  return parseServiceConfig(input, 'command line', c.baseDir);
}
