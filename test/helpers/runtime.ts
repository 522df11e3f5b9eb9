import type { StrategyStatus } from '../../src/status/status-document.js';
import { fileURLToPath } from 'node:url';
import pino, { type Logger } from 'pino';
import { parseStrategyConfigs, type StrategyConfig, type StrategyConfigInput } from '../../src/config/strategy-config.js';
import type { Signal } from '../../src/domain/signal.js';
import type { Tick } from '../../src/domain/tick.js';
import { MemorySignalSink, MemoryTickSource } from '../../src/transport/memory/memory-sources.js';
import { ticksOnly } from '../../src/async/interleave.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { StrategyRegistry } from '../../src/strategies/registry.js';
import { Supervisor, type SupervisorOptions } from '../../src/supervision/supervisor.js';
import { resolveWorkerEntry } from '../../src/supervision/worker-entry.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
export const FIXTURE_MODULES = ['./strategies/faulty.mjs', './strategies/portfolio-aware.mjs'];

/** A logger that keeps its records, for asserting on what was logged. */
export function memoryLogger(level = 'debug'): { logger: Logger; lines: Record<string, unknown>[]; write: (line: string) => void } {
  const lines: Record<string, unknown>[] = [];
  const write = (line: string): void => {
    for (const l of line.split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
  };
  const logger = pino({ level }, { write });
  return { logger, lines, write };
}

export function configs(entries: StrategyConfigInput[]): StrategyConfig[] {
  const r = parseStrategyConfigs(entries, 'test');
  if (r.errors.length > 0) throw r.errors[0];
  return r.configs;
}

export async function newSupervisor(overrides: Partial<SupervisorOptions> = {}): Promise<{ supervisor: Supervisor; lines: Record<string, unknown>[] }> {
  const { logger, lines, write } = memoryLogger();
  const registry = await StrategyRegistry.create(FIXTURE_MODULES, FIXTURES);
  const supervisor = new Supervisor({
    registry,
    modules: FIXTURE_MODULES,
    baseDir: FIXTURES,
    logLevel: 'debug',
    logger,
    writeLog: write,
    workerFile: resolveWorkerEntry(),
    heartbeatIntervalMs: 200,
    controlTimeoutMs: 5000,
    ...overrides,
  });
  return { supervisor, lines };
}

/** Run ticks through a started supervisor with the real pipeline; returns the signals in output order. */
export async function runTicks(supervisor: Supervisor, ticks: readonly Tick[], batchSize = 64): Promise<Signal[]> {
  const sink = new MemorySignalSink();
  const { logger } = memoryLogger('silent');
  const pipeline = new Pipeline({ supervisor, sink, logger, maxInFlightRounds: 4 });
  await pipeline.run(ticksOnly(new MemoryTickSource(ticks, batchSize)));
  return sink.signals;
}

/**
 * Run ticks through a started supervisor with the live (streaming) pipeline;
 * returns the signals in the order the sink got them.
 */
export async function runStreaming(supervisor: Supervisor, ticks: readonly Tick[], batchSize = 50): Promise<Signal[]> {
  const sink = new MemorySignalSink();
  const pipeline = new Pipeline({ supervisor, sink, logger: memoryLogger('silent').logger, mode: 'streaming', maxPendingDeliveries: 1000 });
  await pipeline.run(ticksOnly(new MemoryTickSource(ticks, batchSize)));
  return sink.signals;
}

/** One strategy's entry in the supervisor's status. */
export async function strategyStatus(supervisor: Supervisor, id: string): Promise<StrategyStatus> {
  const found = (await supervisor.status()).threads.flatMap((t) => t.strategies).find((s) => s['id'] === id);
  if (found === undefined) throw new Error(`no strategy ${id} in the status`);
  return found;
}

/** Start a supervisor for these configurations, run the ticks, stop it. */
export async function signalsOf(entries: StrategyConfigInput[], ticks: readonly Tick[], overrides: Partial<SupervisorOptions> = {}): Promise<Signal[]> {
  const { supervisor } = await newSupervisor(overrides);
  try {
    await supervisor.start(configs(entries));
    return await runTicks(supervisor, ticks);
  } finally {
    await supervisor.stop();
  }
}
