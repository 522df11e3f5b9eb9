import { parseArgs } from 'node:util';
import { LOG_LEVELS, type LogLevel } from '../../../logging/logger.js';
import { DEFAULT_INSTRUMENTS } from '../../../sim/instruments.js';
import { intOption, UsageError } from '../../usage-error.js';

/** What `simulate` was asked for, checked. */
export interface SimulateArgs {
  rate: number;
  /** stop after this many ticks (Infinity: until stopped) */
  limit: number;
  seed: number;
  startPrice: number | undefined;
  volatility: number;
  instruments: number[];
  topic: string | undefined;
  /** create the topic with this many partitions when it does not exist */
  createTopic: { partitions: number } | undefined;
  config: string | undefined;
  logLevel: LogLevel | undefined;
  progress: boolean;
}

export interface SimulateResult {
  topic: string;
  sent: number;
  acked: number;
  failed: number;
  seconds: number;
  seed: number;
}

/** Pacing loop period. */
export const TICK_MS = 10;
/** Most messages in one send() call. */
export const MAX_SEND = 5000;
/** Most messages awaiting acknowledgement before generation waits (librdkafka's queue holds 100,000). */
export const MAX_IN_FLIGHT = 50_000;

/** The command line, checked (UsageError before anything touches the broker); 'help' for --help. `randomSeed` gives the seed when none is asked for. */
export function parseSimulateArgs(argv: string[], randomSeed: () => number): SimulateArgs | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      rate: { type: 'string' },
      instruments: { type: 'string' },
      count: { type: 'string' },
      duration: { type: 'string' },
      seed: { type: 'string' },
      'start-price': { type: 'string' },
      volatility: { type: 'string' },
      topic: { type: 'string' },
      'create-topic': { type: 'boolean', default: false },
      partitions: { type: 'string' },
      config: { type: 'string' },
      'log-level': { type: 'string' },
      'no-progress': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const rate = positiveNumber('rate', values.rate) ?? 1000;
  const count = intOption('count', values.count, 1);
  const duration = positiveNumber('duration', values.duration);
  const seed = intOption('seed', values.seed, 0) ?? randomSeed();
  if (seed > 0xffff_ffff) throw new UsageError(`--seed must be an integer in 0..${0xffff_ffff}, got '${values.seed}'`);
  const startPrice = positiveNumber('start-price', values['start-price']);
  const volatility = values.volatility === undefined ? 0.001 : Number(values.volatility);
  if (values.volatility?.trim() === '' || !Number.isFinite(volatility) || volatility < 0 || volatility >= 1) {
    throw new UsageError(`--volatility must be a number in [0, 1), got '${values.volatility}'`);
  }
  const instruments = values.instruments === undefined ? [...DEFAULT_INSTRUMENTS] : parseInstruments(values.instruments);
  const partitions = intOption('partitions', values.partitions, 1);
  if (partitions !== undefined && !values['create-topic']) throw new UsageError('--partitions applies only with --create-topic');
  const logLevel = values['log-level'];
  if (logLevel !== undefined && !(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got '${logLevel}'`);
  }
  if (values.topic !== undefined && values.topic.trim() === '') throw new UsageError('--topic must not be empty');
  return {
    rate,
    limit: Math.min(count ?? Infinity, duration === undefined ? Infinity : Math.floor(duration * rate)),
    seed,
    startPrice,
    volatility,
    instruments,
    topic: values.topic,
    createTopic: values['create-topic'] ? { partitions: partitions ?? 6 } : undefined,
    config: values.config,
    logLevel: logLevel as LogLevel | undefined,
    progress: !values['no-progress'],
  };
}

/**
 * How many ticks are due `elapsedMs` after the start at `rate` per second,
 * capped by `limit`: the schedule is absolute, so a late timer catches up
 * instead of drifting.
 */
export function dueTicks(elapsedMs: number, rate: number, limit = Infinity): number {
  return Math.min(limit, Math.floor((Math.max(0, elapsedMs) * rate) / 1000));
}

function positiveNumber(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a number > 0, got '${value}'`);
  return n;
}

export function parseInstruments(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (parts.length === 0) throw new UsageError('--instruments needs at least one instrument token');
  const out: number[] = [];
  for (const p of parts) {
    const n = Number(p);
    if (!/^\d+$/.test(p) || !Number.isSafeInteger(n)) throw new UsageError(`--instruments: '${p}' is not an instrument token (a non-negative integer)`);
    if (!out.includes(n)) out.push(n);
  }
  return out;
}
