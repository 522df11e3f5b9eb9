/**
 * Every error the runner raises carries a stable code from this one list, a
 * retryable flag and a message that says what went wrong and where.
 * Codes never change meaning once released: dashboards and runbooks key on them.
 */
export const ERROR_CODES = [
  'CONFIG_INVALID', // service configuration file or flags failed validation
  'CONFIG_FILE_UNREADABLE', // a configuration file could not be read or parsed
  'STRATEGY_CONFIG_INVALID', // a strategy row/object failed its schema
  'STRATEGY_PARAMS_INVALID', // a strategy's parameters failed the strategy's own schema
  'STRATEGY_TYPE_UNKNOWN', // strategy_type names nothing in the registry
  'STRATEGY_MODULE_LOAD_FAILED', // a user strategy module could not be imported
  'STRATEGY_DEFINITION_INVALID', // a module exported something that is not a strategy definition
  'STRATEGY_DUPLICATE_TYPE', // two definitions registered under the same type
  'STRATEGY_DUPLICATE_ID', // two configurations with the same id
  'STRATEGY_START_FAILED', // create()/onStart threw inside the worker
  'STRATEGY_TICK_FAILED', // onTick threw (counted, the strategy keeps running)
  'STRATEGY_FILL_FAILED', // onFill threw
  'STRATEGY_OUTPUT_INVALID', // onTick returned something that is not a signal intent
  'TICK_INVALID', // a tick failed to decode or validate
  'FILL_INVALID', // a fill failed to decode or validate
  'WORKER_PROTOCOL_MISMATCH', // the worker speaks another protocol version
  'WORKER_EXITED', // a worker thread ended while work was outstanding
  'WORKER_UNRESPONSIVE', // a control call got no answer in time
  'WORKER_HUNG', // a thread gave no sign of life within the hang timeout and was terminated
  'WORKER_ENTRY_MISSING', // compiled worker entry not found (build not run)
  'SUPERVISOR_STATE', // a lifecycle method was called in a state that forbids it
  'INVALID_TRANSITION', // a component's state machine was asked for a transition its table does not allow (a bug)
  'INPUT_UNREADABLE', // a ticks/fills file could not be opened
  'OUTPUT_UNWRITABLE', // the signal output could not be written
  'SIGNAL_DELIVERY_FAILED', // the broker did not acknowledge signals (non-retriable error)
  'KAFKA_UNAVAILABLE', // the broker could not be reached or refused a request
  'KAFKA_TOPIC_MISSING', // a topic the runner needs does not exist
  'SHARDS_MISMATCH', // the coordination topic's partition count differs from kafka.shards.count (the deployment's layout)
  'SHARD_POSITION_INVALID', // a shard's stored position in the coordination group is unreadable (ignored: the shard starts from the group's offsets)
  'DATABASE_UNAVAILABLE', // PostgreSQL could not be reached
  'DATABASE_SCHEMA_MISSING', // the database lacks the runner's tables (strategy-runner migrate not run) or the database itself
  'DATABASE_ACCESS_DENIED', // PostgreSQL refused the credentials or the privileges
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * The conditions that can go away by themselves, and that the runner retries:
 * an unreachable broker or database (the start-up loops retry with back-off;
 * librdkafka retries while running), a thread that died, hung or did not
 * answer (the supervisor restarts its strategies under the restart policy).
 * Retry loops decide by `retryable`, never by a list of codes of their own.
 */
const RETRYABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'KAFKA_UNAVAILABLE',
  'DATABASE_UNAVAILABLE',
  'WORKER_UNRESPONSIVE',
  'WORKER_EXITED',
  'WORKER_HUNG',
]);

/**
 * The codes that mean the installation or its configuration is wrong: the
 * same start fails again until a person changes something, so a supervisor
 * must not restart the process (exit code 78, EX_CONFIG from sysexits.h;
 * deploy/ keeps systemd and pm2 from restarting on it). Not in the list:
 * a missing topic (its owner may be creating it; the unit's start limit
 * bounds the retries) and an unreadable ticks file (replay only).
 */
const CONFIGURATION: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'CONFIG_INVALID',
  'CONFIG_FILE_UNREADABLE',
  'STRATEGY_MODULE_LOAD_FAILED',
  'STRATEGY_DEFINITION_INVALID',
  'STRATEGY_DUPLICATE_TYPE',
  'WORKER_ENTRY_MISSING',
  'WORKER_PROTOCOL_MISMATCH',
  'DATABASE_SCHEMA_MISSING',
  'DATABASE_ACCESS_DENIED',
  'SHARDS_MISMATCH',
]);

/** The CLI's exit codes (README, docs/operations.md, deploy/strategy-runner.service, deploy/ecosystem.config.cjs). */
export const EXIT_CODES = {
  /** done; for `run`, stopped on request after a clean shutdown */
  ok: 0,
  /** a runtime error (a restart may help), or `run`'s shutdown missed its deadline */
  failure: 1,
  /** bad flags */
  usage: 2,
  /** a configuration error: do not restart (EX_CONFIG) */
  config: 78,
  /** `run`: a second SIGTERM/SIGINT forced the exit */
  forced: 130,
} as const;

export function isConfigurationError(err: unknown): err is RunnerError {
  return err instanceof RunnerError && CONFIGURATION.has(err.code);
}

/** The exit code for a command that ended with this error. */
export function exitCodeFor(err: unknown): number {
  return isConfigurationError(err) ? EXIT_CODES.config : EXIT_CODES.failure;
}

export interface RunnerErrorOptions {
  cause?: unknown;
  /** Structured facts about where the error happened (strategy id, line, field...). */
  details?: Record<string, unknown>;
}

export class RunnerError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: RunnerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RunnerError';
    this.code = code;
    this.retryable = RETRYABLE.has(code);
    this.details = options.details ?? {};
  }

  toJSON(): SerializedError {
    return serializeError(this);
  }
}

/**
 * A RunnerError as it is; anything else (an error of a client library: the
 * Kafka client, the PostgreSQL driver) becomes `code`, with `what` saying
 * what was being done. For retry loops at the edge of a transport.
 */
export function asRunnerError(err: unknown, code: ErrorCode, what: string): RunnerError {
  if (err instanceof RunnerError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new RunnerError(code, `${what}: ${message}`, { cause: err });
}

/** An error as it crosses a thread boundary or goes into a log/status document. */
export interface SerializedError {
  code: ErrorCode | 'UNEXPECTED';
  message: string;
  details?: Record<string, unknown>;
  stack?: string;
}

export function serializeError(err: unknown): SerializedError {
  if (err instanceof RunnerError) {
    const out: SerializedError = { code: err.code, message: err.message };
    if (Object.keys(err.details).length > 0) out.details = err.details;
    if (err.stack !== undefined) out.stack = err.stack;
    return out;
  }
  if (err instanceof Error) {
    const out: SerializedError = { code: 'UNEXPECTED', message: `${err.name}: ${err.message}` };
    if (err.stack !== undefined) out.stack = err.stack;
    return out;
  }
  return { code: 'UNEXPECTED', message: String(err) };
}

/** Rebuild an error on this side of a thread boundary. */
export function deserializeError(s: SerializedError): RunnerError | Error {
  if (s.code === 'UNEXPECTED') {
    const e = new Error(s.message);
    if (s.stack !== undefined) e.stack = s.stack;
    return e;
  }
  const e = new RunnerError(s.code, s.message, s.details === undefined ? {} : { details: s.details });
  if (s.stack !== undefined) e.stack = s.stack;
  return e;
}
