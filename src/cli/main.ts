#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../app/package-root.js';
import { EXIT_CODES, RunnerError, exitCodeFor } from '../errors.js';
import { errorLine } from './error-line.js';
import { BACKTEST_USAGE, backtestCommand } from './commands/backtest.js';
import { MIGRATE_USAGE, migrateCommand } from './commands/migrate.js';
import { NEW_USAGE, newCommand } from './commands/new.js';
import { REPLAY_USAGE, replayCommand } from './commands/replay.js';
import { RUN_USAGE, runCommand } from './commands/run.js';
import { SIMULATE_USAGE, simulateCommand } from './commands/simulate/index.js';
import { STATUS_USAGE, statusCommand } from './commands/status/index.js';
import { STRATEGIES_USAGE, strategiesCommand } from './commands/strategies.js';
import { UsageError } from './usage-error.js';

const USAGE = `Usage: strategy-runner <command> [options]

Runs trading strategies, one worker thread per strategy: ticks in, signals out.

Commands:
  run          the service: Kafka ticks and fills in, signals out, configurations from PostgreSQL
  migrate      apply the database migrations (idempotent)
  status       show a running service's status endpoint as tables (--group: a sharded
               deployment's runners, shards and positions, from Kafka)
  simulate     produce a synthetic random-walk tick stream to market.ticks
  replay       run a ticks file through the strategies and write the signals
  backtest     replay with simulated fills fed back to the strategies: P&L report, equity charts
  strategies   list the registered strategy types and their parameters
  new NAME     start a strategy type of your own: module, test, configurations, README
  help [CMD]   show help for a command

Run 'strategy-runner <command> --help' for a command's options.
`;

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; usage: string }> = {
  run: { run: runCommand, usage: RUN_USAGE },
  migrate: { run: migrateCommand, usage: MIGRATE_USAGE },
  status: { run: (argv) => statusCommand(argv), usage: STATUS_USAGE },
  simulate: { run: (argv) => simulateCommand(argv), usage: SIMULATE_USAGE },
  replay: { run: replayCommand, usage: REPLAY_USAGE },
  backtest: { run: backtestCommand, usage: BACKTEST_USAGE },
  strategies: { run: strategiesCommand, usage: STRATEGIES_USAGE },
  new: { run: newCommand, usage: NEW_USAGE },
};

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '-h' || cmd === '--help') {
    process.stdout.write(USAGE);
    return cmd === undefined ? EXIT_CODES.usage : EXIT_CODES.ok;
  }
  if (cmd === '--version' || cmd === '-v') {
    const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  if (cmd === 'help') {
    const c = rest[0] === undefined ? undefined : COMMANDS[rest[0]];
    process.stdout.write(c?.usage ?? USAGE);
    return 0;
  }
  const command = COMMANDS[cmd];
  if (command === undefined) {
    process.stderr.write(`strategy-runner: unknown command '${cmd}'\n\n${USAGE}`);
    return EXIT_CODES.usage;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`strategy-runner ${cmd}: ${(err as Error).message}\n\n${command.usage}`);
      return EXIT_CODES.usage;
    }
    if (err instanceof RunnerError) {
      // One line: the code and the message say what and where; a stack would only repeat it.
      process.stderr.write(`${errorLine(cmd, err)}\n`);
      return exitCodeFor(err);
    }
    process.stderr.write(`strategy-runner ${cmd}: ${(err as Error)?.stack ?? String(err)}\n`);
    return EXIT_CODES.failure;
  }
}

// A reader that goes away (\`| head\`) is not an error of ours.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`strategy-runner: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
