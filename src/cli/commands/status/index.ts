import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { holdProcess } from '../../../async/hold-process.js';
import { applyEnvironment, configPathFrom, loadServiceConfig } from '../../../config/service-config.js';
import { RunnerError } from '../../../errors.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../../../logging/logger.js';
import { sleep } from '../../../timing/sleep.js';
import { errorLine } from '../../error-line.js';
import { UsageError } from '../../usage-error.js';
import { fetchStatus } from './client.js';
import { assembleGroupView, type GroupView } from './group-model.js';
import { GroupReader } from './group-reader.js';
import { formatGroupView } from './group-render.js';
import { baseUrl, positiveSeconds } from './model.js';
import { formatStatus } from './render.js';

export const STATUS_USAGE = `Usage: strategy-runner status [--url URL | --port N | --config FILE] [options]
       strategy-runner status --group [--config FILE] [options]

Shows the status endpoint of a running strategy-runner as tables: the
service, its threads, its strategies (counters, latency, positions),
rejected strategies, and the Kafka consumer and producer when present.

With --group, shows a whole sharded deployment (kafka.shards.enabled) as
Kafka sees it, not as one runner does: the runners in the group
kafka.groupId and the shards each holds, and every shard (held or
unassigned) with its stored position in the ticks topic, its lag and its
strategies (read from the configured source: PostgreSQL or a file).

Options:
  --url URL          base address of the status server (e.g. http://127.0.0.1:9464)
  --port N           status server on 127.0.0.1:N
  --config FILE      service configuration (JSON): status.host and status.port;
                     with --group, the deployment's (kafka: brokers, groupId, topics,
                     shards; the strategy source), by default $STRATEGY_RUNNER_CONFIG
  --group            the deployment from Kafka instead of one runner's endpoint
  --strategies FILE  (--group) strategy configurations from this file instead of
                     the configured source
  --json             print the /status document (with --group, the deployment view) as JSON
  --watch S          refresh every S seconds until interrupted
  --timeout S        give up on a request after S seconds (default: 5)
  --log-level LEVEL  (--group) the Kafka and PostgreSQL clients' logs on stderr
                     (${LOG_LEVELS.join(' | ')}; default: silent)
  -h, --help         this help

Environment (--group): KAFKA_BROKERS (host:port,...) and DATABASE_URL override
the configuration file, as for run.

Exit codes: 0 shown, 1 the status server (with --group: Kafka) did not answer,
or with --group the strategy configurations could not be read (the rest is
shown), 2 a usage error (--group: sharding is off in the configuration),
78 a configuration error.
`;

export interface StatusOptions {
  /** ends --watch (for callers in the same process; SIGINT/SIGTERM do the same) */
  signal?: AbortSignal;
}

export async function statusCommand(argv: string[], opts: StatusOptions = {}): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' },
      port: { type: 'string' },
      config: { type: 'string' },
      group: { type: 'boolean', default: false },
      strategies: { type: 'string' },
      json: { type: 'boolean', default: false },
      watch: { type: 'string' },
      timeout: { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(STATUS_USAGE);
    return 0;
  }
  const watch = positiveSeconds('watch', values.watch);
  const timeoutMs = (positiveSeconds('timeout', values.timeout) ?? 5) * 1000;
  if (values.group) return groupStatus(values, watch, timeoutMs, opts);
  for (const only of ['strategies', 'log-level'] as const) if (values[only] !== undefined) throw new UsageError(`--${only} goes with --group`);
  const base = baseUrl(values);

  if (watch === undefined) {
    const r = await fetchStatus(base, timeoutMs);
    if (!r.ok) {
      process.stderr.write(`strategy-runner status: ${r.error}\n`);
      return 1;
    }
    process.stdout.write(values.json ? JSON.stringify(r.status, null, 2) + '\n' : formatStatus(r.status, { ready: r.ready, url: base }));
    return 0;
  }

  // --watch: redraw until interrupted; an unreachable endpoint is shown and retried.
  await watchLoop(watch, opts, async () => {
    const r = await fetchStatus(base, timeoutMs);
    return !r.ok ? `strategy-runner status: ${r.error}\n` : values.json ? JSON.stringify(r.status, null, 2) + '\n' : formatStatus(r.status, { ready: r.ready, url: base });
  });
  return 0;
}

/** `status --group`: the sharded deployment as Kafka sees it (GroupReader → assembleGroupView → formatGroupView). */
async function groupStatus(values: GroupValues, watch: number | undefined, timeoutMs: number, opts: StatusOptions): Promise<number> {
  if (values.url !== undefined || values.port !== undefined) {
    throw new UsageError('--group reads the deployment from Kafka, not from a status server: give --config FILE (the deployment\'s configuration), not --url or --port');
  }
  const logLevel = values['log-level'] ?? 'silent';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got '${logLevel}'`);
  const path = configPathFrom(values.config);
  let config = applyEnvironment(loadServiceConfig(path));
  if (!config.kafka.shards.enabled) {
    throw new UsageError(
      `--group shows a sharded deployment, but kafka.shards.enabled is false in ${path === undefined ? 'the default configuration (no --config FILE nor $STRATEGY_RUNNER_CONFIG)' : resolve(path)}: ` +
        "a runner without shards is shown by 'strategy-runner status --port N'",
    );
  }
  // --strategies is relative to the working directory, not to the configuration file (as for run).
  if (values.strategies !== undefined) config = { ...config, strategies: { ...config.strategies, source: 'file', file: resolve(process.cwd(), values.strategies) } };
  const logger = createLogger({ level: logLevel as LogLevel, fd: 2, format: config.log.format });
  const reader = new GroupReader({ config, logger, timeoutMs });
  const render = (view: GroupView): string => (values.json ? JSON.stringify(view, null, 2) + '\n' : formatGroupView(view));
  try {
    if (watch === undefined) {
      const view = assembleGroupView(await reader.read());
      process.stdout.write(render(view));
      if (view.strategies.error !== null) {
        process.stderr.write(`strategy-runner status: the strategy configurations could not be read (shown without them): ${view.strategies.error}\n`);
        return 1;
      }
      return 0;
    }
    // --watch: a Kafka that does not answer is shown and asked again (the clients stay open between refreshes).
    await watchLoop(watch, opts, async () => {
      try {
        return render(assembleGroupView(await reader.read()));
      } catch (err) {
        return err instanceof RunnerError ? `${errorLine('status', err)}\n` : `strategy-runner status: ${(err as Error)?.message ?? String(err)}\n`;
      }
    });
    return 0;
  } finally {
    await reader.close();
    await new Promise<void>((r) => logger.flush(() => r()));
  }
}

interface GroupValues {
  url?: string | undefined;
  port?: string | undefined;
  config?: string | undefined;
  strategies?: string | undefined;
  json?: boolean | undefined;
  'log-level'?: string | undefined;
}

/** Redraw `frame()` every `watch` seconds until SIGINT/SIGTERM or the caller's signal. */
async function watchLoop(watch: number, opts: StatusOptions, frame: () => Promise<string>): Promise<void> {
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const onAbort = (): void => stop.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted === true) stop.abort();
  const clear = process.stdout.isTTY === true ? '\x1b[2J\x1b[H' : '\n';
  const release = holdProcess();
  try {
    while (!stop.signal.aborted) {
      const body = await frame();
      const head = `every ${watch} s, ${new Date().toISOString()} (Ctrl-C to stop)\n\n`;
      if (stop.signal.aborted) break;
      process.stdout.write(clear + head + body);
      await sleep(watch * 1000, stop.signal);
    }
  } finally {
    release();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
