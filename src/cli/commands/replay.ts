import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadServiceConfig } from '../../config/service-config.js';
import { createLogger, LOG_LEVELS } from '../../logging/logger.js';
import { FileConfigSource } from '../../transport/files/file-config-source.js';
import { FileFillSource } from '../../transport/files/file-fill-source.js';
import { FileTickSource } from '../../transport/files/file-tick-source.js';
import { interleaveByTime, ticksOnly } from '../../async/interleave.js';
import type { RejectedInput } from '../../ports.js';
import { JsonlSignalSink } from '../../transport/files/jsonl-signal-sink.js';
import { Pipeline } from '../../pipeline/pipeline.js';
import { startRuntime } from '../../app/runtime.js';
import { progressBar, ticksPerSecond } from '../progress.js';
import { COMMON_OPTIONS, withOverrides } from '../overrides.js';
import { UsageError } from '../usage-error.js';

export const REPLAY_USAGE = `Usage: strategy-runner replay --ticks FILE.jsonl --strategies FILE.json [options]

Runs a ticks file through the real supervisor and worker threads (the same
code as live) and writes the signals as JSON lines, ordered by tick, then
strategy id, then emission order: the same ticks, strategies and fills files
and configuration, run by the same version, give byte-identical output
whatever the pool and batch size (for strategies that use no clock and no
randomness).

Options:
  --ticks FILE          ticks, one JSON object per line (required)
  --strategies FILE     strategy configurations: a JSON array of
                        { id, strategy_type, instruments, parameters, is_active, brokers } (required)
  --fills FILE          fills, one JSON object per line; each is applied after every
                        tick at or before its timestamp (before the first later tick)
  --out FILE            write signals here (default: stdout)
  --config FILE         service configuration (JSON; see docs/configuration.md)
  --pool-size N         strategy threads (default: one per strategy)
  --batch-size N        ticks per dispatch round (default: 512)
  --status-port N       serve /status, /healthz, /readyz, /metrics on 127.0.0.1:N while replaying (0 = any port)
  --log-level LEVEL     ${LOG_LEVELS.join(' | ')} (default: info; logs go to stderr)
  --no-progress         no progress bar on a terminal
  --quiet               no summary on stderr (the bar and the summary give the
                        same ticks/s: ticks over the run, thread start-up and
                        shutdown excluded; the summary gives the whole time too)
  -h, --help            this help
`;

export async function replayCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ticks: { type: 'string' },
      strategies: { type: 'string' },
      fills: { type: 'string' },
      out: { type: 'string' },
      ...COMMON_OPTIONS,
      'batch-size': { type: 'string' },
      'no-progress': { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(REPLAY_USAGE);
    return 0;
  }
  if (values.ticks === undefined) throw new UsageError('replay needs --ticks FILE.jsonl');
  const ticksFile = values.ticks;
  if (values.strategies === undefined) throw new UsageError('replay needs --strategies FILE.json');
  const config = withOverrides(loadServiceConfig(values.config), values);
  // stdout may carry the signals: logs go to stderr.
  const logger = createLogger({ level: config.log.level, fd: 2, format: config.log.format });

  const rejected: RejectedInput[] = [];
  const onReject = (r: RejectedInput): void => {
    rejected.push(r);
    if (rejected.length <= 100) logger.warn({ where: r.where, reason: r.reason }, `skipped malformed ${r.kind}`);
    else if (rejected.length === 101) logger.warn('more than 100 malformed lines; further ones are counted, not logged');
  };
  const ticks = new FileTickSource(values.ticks, { batchSize: config.dispatch.maxBatchTicks, onReject });
  const fills = values.fills === undefined ? [] : await new FileFillSource(values.fills, { onReject }).all();
  const configs = await new FileConfigSource(values.strategies).load();
  const sink = new JsonlSignalSink(values.out);

  const started = performance.now();
  let pipeline: Pipeline | undefined;
  const runtime = await startRuntime({
    config,
    configs,
    // Restarts, back-off and quarantine by the ticks' time: the same output whatever the timing, pool and batch size.
    clock: 'event',
    logger,
    statusExtra: () => ({
      replay: { ticks_file: ticksFile, progress: ticks.progress(), pipeline: pipeline?.status() ?? null, malformed_lines: rejected.length },
    }),
  });
  if (runtime.statusPort !== undefined) process.stderr.write(`status: http://${config.status.host}:${runtime.statusPort}/status\n`);
  pipeline = new Pipeline({ supervisor: runtime.supervisor, sink, logger, maxInFlightRounds: config.dispatch.maxInFlightRounds });
  const p = pipeline;
  // The speed is measured over the run of the ticks (threads already up, the
  // last signal written), by the bar and the summary alike; the start-up and
  // shutdown of the threads are reported beside it, not mixed into it.
  const bar = progressBar(!values['no-progress'], () => ({ ...ticks.progress(), ticks: p.counters.ticks }));
  let counters;
  let ranMs: number | undefined;
  try {
    counters = await pipeline.run(fills.length > 0 ? interleaveByTime(ticks, fills) : ticksOnly(ticks));
    ranMs = performance.now() - bar.startedAt;
  } finally {
    bar.stop(ranMs === undefined ? undefined : bar.startedAt + ranMs);
    await sink.close();
    await runtime.close();
  }
  const totalSecs = (performance.now() - started) / 1000;

  if (!values.quiet) {
    const lines = [
      `replay: ${counters.ticks.toLocaleString('en-US')} ticks in ${(ranMs! / 1000).toFixed(2)} s (${ticksPerSecond(counters.ticks, ranMs!).toLocaleString('en-US')} ticks/s; ` +
        `${totalSecs.toFixed(2)} s with thread start-up and shutdown), ` +
        `${counters.signals.toLocaleString('en-US')} signals to ${sink.name}`,
      `  strategies: ${runtime.report.running.length} running, ${runtime.report.rejected.length + configs.errors.length} rejected, ${runtime.report.inactive.length} inactive; threads: ${runtime.report.threads}`,
    ];
    for (const id of runtime.report.running) {
      const sup = runtime.supervisor.supervisionOf(id);
      const restarts = sup === undefined || sup.restarts === 0 ? '' : `, ${sup.restarts} restarts`;
      const missed = sup === undefined || sup.missedTicks === 0 ? '' : `, ${sup.missedTicks} ticks missed while restarting or quarantined`;
      lines.push(`  ${id}: ${counters.signalsByStrategy[id] ?? 0} signals, ${counters.errorsByStrategy[id] ?? 0} errors${restarts}${missed}${sup?.quarantined === true ? ' (quarantined)' : ''}`);
    }
    for (const r of runtime.report.rejected) lines.push(`  ${r.strategyId}: NOT STARTED [${r.error.code}] ${r.error.message}`);
    for (const e of configs.errors) lines.push(`  NOT LOADED [${e.code}] ${e.message}`);
    if (rejected.length > 0) lines.push(`  malformed input lines skipped: ${rejected.length}`);
    if (counters.fillsApplied + counters.fillsDuplicate + counters.fillsUnknownStrategy > 0) {
      lines.push(`  fills: ${counters.fillsApplied} applied, ${counters.fillsDuplicate} duplicate, ${counters.fillsUnknownStrategy} for strategies not running`);
    }
    if (counters.unroutedTicks > 0) lines.push(`  ticks no strategy wanted: ${counters.unroutedTicks}`);
    process.stderr.write(lines.join('\n') + '\n');
  }
  return 0;
}
