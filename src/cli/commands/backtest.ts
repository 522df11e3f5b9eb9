import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BacktestAccounts } from '../../backtest/backtest-accounts.js';
import { equityChartSvg } from '../../backtest/equity-chart.js';
import { FILL_MODELS, type FillModel, type FillModelOptions } from '../../backtest/fill-model.js';
import { renderReportTable } from '../../backtest/report-table.js';
import { startRuntime } from '../../app/runtime.js';
import { ticksOnly } from '../../async/interleave.js';
import { loadServiceConfig } from '../../config/service-config.js';
import { inTimeOrder, type Fill } from '../../domain/fill.js';
import { RunnerError } from '../../errors.js';
import { createLogger, LOG_LEVELS } from '../../logging/logger.js';
import { Pipeline } from '../../pipeline/pipeline.js';
import type { RejectedInput } from '../../ports.js';
import { FileConfigSource } from '../../transport/files/file-config-source.js';
import { FileTickSource } from '../../transport/files/file-tick-source.js';
import { JsonlSignalSink } from '../../transport/files/jsonl-signal-sink.js';
import { COMMON_OPTIONS, withOverrides } from '../overrides.js';
import { UsageError } from '../usage-error.js';

export const BACKTEST_USAGE = `Usage: strategy-runner backtest --ticks FILE.jsonl --strategies FILE.json [options]

Runs a ticks file through the same supervisor and strategy threads as replay,
and turns each signal into a simulated fill fed back to its strategy (onFill
and its portfolio) by event time. Writes to --out DIR:
  report.json        per strategy and in total: fills, realised/unrealised/net
                     P&L, fees, final positions, max drawdown, win rate of
                     closed round trips, exposure, the equity curve
  fills.jsonl        the simulated fills, in the --fills format: replay --fills
                     of this file gives the same signals
  signals.jsonl      the signals, as replay writes them
  equity-ID.svg      the equity curve of each strategy
and prints the report as a table.

Options:
  --ticks FILE          ticks, one JSON object per line (required)
  --strategies FILE     strategy configurations, as for replay (required)
  --fill-model MODEL    next-tick (default): a signal fills at the last price of
                        the next tick of its instrument; same-tick: at its own price
  --slippage-bps N      a BUY fills at price × (1 + N/10,000), a SELL at
                        price × (1 − N/10,000) (default 0)
  --fee-bps N           fee N/10,000 × quantity × fill price, out of cash (default 0)
  --out DIR             where the files go (default: ./backtest)
  --config FILE         service configuration (portfolio.initialCash is the starting cash)
  --pool-size N         strategy threads (default: one per strategy)
  --batch-size N        ticks per dispatch round (default: 512)
  --log-level LEVEL     ${LOG_LEVELS.join(' | ')} (default: info; logs go to stderr)
  --quiet               no table on stdout
  -h, --help            this help
`;

export async function backtestCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ticks: { type: 'string' },
      strategies: { type: 'string' },
      'fill-model': { type: 'string' },
      'slippage-bps': { type: 'string' },
      'fee-bps': { type: 'string' },
      out: { type: 'string' },
      ...COMMON_OPTIONS,
      'batch-size': { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(BACKTEST_USAGE);
    return 0;
  }
  if (values.ticks === undefined) throw new UsageError('backtest needs --ticks FILE.jsonl');
  if (values.strategies === undefined) throw new UsageError('backtest needs --strategies FILE.json');
  const model = (values['fill-model'] ?? 'next-tick') as FillModel;
  if (!FILL_MODELS.includes(model)) throw new UsageError(`--fill-model must be one of ${FILL_MODELS.join(', ')}, got '${values['fill-model']}'`);
  const execution: FillModelOptions = {
    model,
    slippageBps: bps(values['slippage-bps'], '--slippage-bps'),
    feeBps: bps(values['fee-bps'], '--fee-bps'),
  };
  const outDir = resolve(values.out ?? 'backtest');
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (err) {
    throw new RunnerError('OUTPUT_UNWRITABLE', `backtest: cannot create the output directory ${outDir}: ${(err as Error).message}`, { cause: err });
  }
  const config = withOverrides(loadServiceConfig(values.config), values);
  const logger = createLogger({ level: config.log.level, fd: 2, format: config.log.format });

  let malformed = 0;
  const onReject = (r: RejectedInput): void => {
    malformed++;
    if (malformed <= 100) logger.warn({ where: r.where, reason: r.reason }, `skipped malformed ${r.kind}`);
  };
  const configs = await new FileConfigSource(values.strategies).load();
  const sink = new JsonlSignalSink(join(outDir, 'signals.jsonl'));
  const fills: Fill[] = [];
  const runtime = await startRuntime({ config, configs, clock: 'event', backtest: execution, logger });
  let counters;
  try {
    const pipeline = new Pipeline({
      supervisor: runtime.supervisor,
      sink,
      logger,
      maxInFlightRounds: config.dispatch.maxInFlightRounds,
      onSimulatedFills: (f) => fills.push(...f),
    });
    counters = await pipeline.run(ticksOnly(new FileTickSource(values.ticks, { batchSize: config.dispatch.maxBatchTicks, onReject })));
  } finally {
    await sink.close();
    await runtime.close();
  }

  // The fills in the --fills format, in the order they take effect (time, then decision order).
  const ordered = inTimeOrder(fills);
  writeFileSync(join(outDir, 'fills.jsonl'), ordered.map((f) => JSON.stringify(f) + '\n').join(''));

  // The accounts: the fills (they queue and take effect by the replay rule as the ticks pass), then a second pass over the ticks.
  const ids = runtime.report.running;
  const settings = {
    ticks_file: resolve(values.ticks),
    strategies_file: resolve(values.strategies),
    fill_model: execution.model,
    slippage_bps: execution.slippageBps,
    fee_bps: execution.feeBps,
    initial_cash: config.portfolio.initialCash,
  };
  const accounts = new BacktestAccounts({ initialCash: config.portfolio.initialCash, strategies: ids, settings });
  for (const f of ordered) accounts.onFill(f);
  for await (const batch of new FileTickSource(values.ticks, { batchSize: 4096, onReject: () => {} }).batches()) {
    for (const tick of batch.ticks) accounts.onTick(tick);
  }
  const report = accounts.report();
  // Every signal is an order: those without a fill were LIMIT orders never reached, IOC ones that expired, or had no later tick.
  const filledBy: Record<string, number> = {};
  for (const f of fills) filledBy[f.strategy_id] = (filledBy[f.strategy_id] ?? 0) + 1;
  const unfilledBy: Record<string, number> = {};
  for (const [id, n] of Object.entries(counters.signalsByStrategy)) if (n > (filledBy[id] ?? 0)) unfilledBy[id] = n - (filledBy[id] ?? 0);
  const unfilled = Object.values(unfilledBy).reduce((a, n) => a + n, 0);
  const run = {
    ticks: counters.ticks,
    signals: counters.signals,
    signals_by_strategy: counters.signalsByStrategy,
    unfilled_orders: unfilled,
    unfilled_orders_by_strategy: unfilledBy,
    errors_by_strategy: counters.errorsByStrategy,
    not_started: runtime.report.rejected.map((r) => ({ strategy_id: r.strategyId, code: r.error.code, message: r.error.message })),
    not_loaded: configs.errors.map((e) => ({ code: e.code, message: e.message })),
    malformed_lines: malformed,
  };
  writeFileSync(join(outDir, 'report.json'), JSON.stringify({ ...report, run }, null, 2) + '\n');
  for (const s of report.strategies) {
    writeFileSync(join(outDir, `equity-${fileSafe(s.strategy_id)}.svg`), equityChartSvg(s.strategy_id, s.equity_curve, { netPnl: s.net_pnl }));
  }
  if (!values.quiet) {
    process.stdout.write(renderReportTable(report));
    const problems = [...run.not_started.map((r) => `  ${r.strategy_id}: NOT STARTED [${r.code}] ${r.message}`), ...run.not_loaded.map((e) => `  NOT LOADED [${e.code}] ${e.message}`)];
    if (problems.length > 0) process.stdout.write(`\n${problems.join('\n')}\n`);
    const open = unfilled === 0 ? '' : `, ${unfilled.toLocaleString('en-US')} orders unfilled (a limit not reached, an IOC expired, or no later tick)`;
    process.stdout.write(`\n${counters.ticks.toLocaleString('en-US')} ticks, ${counters.signals.toLocaleString('en-US')} signals, ${fills.length.toLocaleString('en-US')} fills${open} (${execution.model}, slippage ${execution.slippageBps} bps, fee ${execution.feeBps} bps); files in ${outDir}\n`);
  }
  return 0;
}

function bps(text: string | undefined, flag: string): number {
  if (text === undefined) return 0;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0 || n >= 10_000) throw new UsageError(`${flag} must be a number of basis points from 0 to 9999, got '${text}'`);
  return n;
}

/** A strategy id as part of a file name: anything but letters, digits, '-', '_' and '.' becomes '_'. */
function fileSafe(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_');
}
