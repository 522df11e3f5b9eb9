import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { applyEnvironment, configPathFrom, loadServiceConfig } from '../../config/service-config.js';
import { createLogger, LOG_LEVELS } from '../../logging/logger.js';
import { Service } from '../../app/service.js';
import { EXIT_CODES, isConfigurationError } from '../../errors.js';
import { errorLine } from '../error-line.js';
import { COMMON_OPTIONS, withOverrides } from '../overrides.js';

export const RUN_USAGE = `Usage: strategy-runner run [options]

Runs the service: strategy configurations from PostgreSQL (or a file), ticks
from Kafka (market.ticks) routed to one worker thread per strategy, fills from
orders.filled into each strategy's portfolio, signals to {broker}.signals.raw.
Offsets are committed only after the signals they produced are acknowledged.
SIGTERM or SIGINT stops it cleanly (a second one forces the exit).

Options:
  --config FILE         service configuration (JSON; see docs/configuration.md);
                        default: $STRATEGY_RUNNER_CONFIG if set
  --strategies FILE     take strategy configurations from this file instead of PostgreSQL
  --pool-size N         strategy threads (default: one per strategy)
  --status-port N       serve /status, /healthz, /readyz, /metrics on 127.0.0.1:N (0 = any port)
  --log-level LEVEL     ${LOG_LEVELS.join(' | ')} (default: info; JSON logs on stdout)
  -h, --help            this help

Environment: KAFKA_BROKERS (host:port,...) and DATABASE_URL override the configuration file.

Exit codes: 0 stopped on request, 1 a fatal error or a missed shutdown deadline
(restart it), 2 a usage error, 78 a configuration error (do not restart: fix
the configuration), 130 a second signal forced the exit.
`;

export async function runCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { ...COMMON_OPTIONS, strategies: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(RUN_USAGE);
    return 0;
  }
  const base = loadServiceConfig(configPathFrom(values.config));
  const config = applyEnvironment(withOverrides(base, values));
  const logger = createLogger({ level: config.log.level, fd: 1, format: config.log.format });
  const service = new Service(
    // --strategies is relative to the working directory, not to the configuration file.
    values.strategies === undefined ? config : { ...config, strategies: { ...config.strategies, source: 'file', file: resolveFromCwd(values.strategies) } },
    logger,
  );

  // Leave now, whatever handle a library still holds. But a librdkafka close
  // still running holds a libuv thread that process.exit() joins: the process
  // would never end, so exit with SIGKILL then. Nothing is lost either way
  // (offsets not committed are processed again after the restart).
  const exit = (code: number): void => {
    if (service.clientCloseInFlight) {
      logger.error({ exit_code: code }, 'a Kafka client is still closing: exiting with SIGKILL so the process cannot hang');
      logger.flush(() => process.kill(process.pid, 'SIGKILL'));
      return;
    }
    logger.flush(() => process.exit(code));
  };

  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal: sig }, 'second signal: exiting now');
      exit(EXIT_CODES.forced);
      return;
    }
    logger.info({ signal: sig }, 'stopping');
    void service.stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // SIGHUP re-reads the strategy configurations (it must never end the service).
  process.on('SIGHUP', () => service.reload());
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception; stopping');
    void service.stop().then(() => exit(EXIT_CODES.failure));
  });

  try {
    await service.start();
    // pm2 (wait_ready) waits for this message.
    if (service.state === 'running') process.send?.('ready');
  } catch (err) {
    if (isConfigurationError(err)) {
      // The message says what and where; a stack would only repeat it. One
      // line on stderr for a person, the JSON line for the logs.
      logger.fatal({ code: err.code, details: err.details }, `start-up failed: ${err.message}`);
      process.stderr.write(`${errorLine('run', err)}\n`);
    } else {
      logger.fatal({ err }, 'start-up failed');
    }
  }
  // 78 (EX_CONFIG) after a configuration error: systemd and pm2 do not restart it (deploy/).
  const code = await service.finished;
  exit(code);
  return code;
}

function resolveFromCwd(p: string): string {
  return resolve(process.cwd(), p);
}
