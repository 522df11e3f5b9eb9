import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { applyEnvironment, loadServiceConfig } from '../../config/service-config.js';
import { createLogger, LOG_LEVELS } from '../../logging/logger.js';
import { Service } from '../../app/service.js';
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
  const base = loadServiceConfig(values.config ?? process.env['STRATEGY_RUNNER_CONFIG']);
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
      exit(130);
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
    void service.stop().then(() => exit(1));
  });

  try {
    await service.start();
    // pm2 (wait_ready) waits for this message.
    if (service.state === 'running') process.send?.('ready');
  } catch (err) {
    logger.fatal({ err }, 'start-up failed');
  }
  const code = await service.finished;
  exit(code);
  return code;
}

function resolveFromCwd(p: string): string {
  return resolve(process.cwd(), p);
}
