import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { gaussian, mulberry32 } from '../../sim/prng.js';
import type { KafkaJS } from '@confluentinc/kafka-javascript';
import { applyEnvironment, loadServiceConfig } from '../../config/service-config.js';
import { RunnerError } from '../../errors.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../../logging/logger.js';
import { createKafka, errorCode } from '../../transport/kafka/client.js';
import { intOption, UsageError } from '../usage-error.js';

/** NSE tokens: NIFTY 50, NIFTY BANK, RELIANCE, HDFCBANK, INFY, TCS. */
export const DEFAULT_INSTRUMENTS: readonly number[] = [256265, 260105, 738561, 341249, 408065, 2953217];

export const SIMULATE_USAGE = `Usage: strategy-runner simulate [options]

Produces a synthetic random-walk tick stream to the ticks topic at a steady
rate, for load tests and demos. Each message: key = instrument token,
value = {"instrument_token","last_price","timestamp","volume"} with prices on
the 0.05 grid and timestamps (epoch ms, time of sending) that never go back
per instrument. Runs until --count/--duration is reached, or until SIGINT/
SIGTERM, then waits for every sent tick to be acknowledged.

Options:
  --rate N              ticks per second (default: 1000)
  --instruments LIST    comma-separated instrument tokens
                        (default: ${DEFAULT_INSTRUMENTS.join(',')})
  --count N             stop after N ticks
  --duration S          stop after S seconds
  --seed N              seed of the random walk: the same seed gives the same
                        tokens and prices (default: random, printed at the end)
  --start-price P       starting price of every instrument (default: a
                        realistic price per known token, else seeded)
  --volatility V        relative standard deviation of one tick's move (default: 0.001)
  --topic T             topic (default: kafka.topics.ticks of the configuration)
  --create-topic        create the topic when it does not exist
  --partitions N        partitions of a created topic (default: 6)
  --config FILE         service configuration (JSON); KAFKA_BROKERS overrides its brokers
  --log-level LEVEL     ${LOG_LEVELS.join(' | ')} (default: warn; logs go to stderr)
  --no-progress         no progress line on a terminal
  -h, --help            this help
`;

/** Realistic starting prices of the default instruments. */
const KNOWN_START_PRICES: ReadonlyMap<number, number> = new Map([
  [256265, 23_450],
  [260105, 50_120],
  [738561, 1_265],
  [341249, 1_742],
  [408065, 1_860],
  [2953217, 4_150],
]);

/** NSE tick size. */
export const TICK_SIZE = 0.05;

export { mulberry32 } from '../../sim/prng.js';

/** Nearest multiple of 0.05 (at least 0.05), as the shortest decimal (23450.35, not 23450.350000000002). */
export function roundToTickSize(price: number): number {
  const steps = Math.max(1, Math.round(price / TICK_SIZE));
  return Number((steps * TICK_SIZE).toFixed(2));
}

export interface RandomWalkOptions {
  instruments: readonly number[];
  seed: number;
  /** relative standard deviation of one move (default 0.001) */
  volatility?: number;
  /** starting price of every instrument (default: known price per token, else seeded in [100, 5000)) */
  startPrice?: number;
}

/** A generated tick, without its timestamp (stamped at send time). */
export interface SyntheticTick {
  instrument_token: number;
  /** on the 0.05 grid, > 0 */
  last_price: number;
  /** cumulative volume of the instrument */
  volume: number;
}

/**
 * A seeded random walk over several instruments: each step picks an
 * instrument uniformly and moves its price geometrically
 * (× exp(volatility · N(0,1)), so it stays positive); the exact price is kept
 * internally and the emitted one is rounded to the 0.05 grid, so small prices
 * still move. Deterministic: the same options give the same sequence.
 */
export class RandomWalk {
  readonly #rand: () => number;
  readonly #tokens: readonly number[];
  readonly #vol: number;
  readonly #price = new Map<number, number>();
  readonly #volume = new Map<number, number>();

  constructor(o: RandomWalkOptions) {
    if (o.instruments.length === 0) throw new RangeError('RandomWalk needs at least one instrument');
    const vol = o.volatility ?? 0.001;
    if (!(vol >= 0) || !Number.isFinite(vol)) throw new RangeError(`volatility must be a finite number >= 0, got ${vol}`);
    if (o.startPrice !== undefined && !(o.startPrice > 0 && Number.isFinite(o.startPrice))) {
      throw new RangeError(`startPrice must be a finite number > 0, got ${o.startPrice}`);
    }
    this.#rand = mulberry32(o.seed);
    this.#tokens = [...o.instruments];
    this.#vol = vol;
    for (const t of this.#tokens) {
      const p = o.startPrice ?? KNOWN_START_PRICES.get(t) ?? 100 + Math.floor(this.#rand() * 4900);
      this.#price.set(t, p);
      this.#volume.set(t, 0);
    }
  }

  /** Standard normal (Box–Muller; 1 − u keeps log away from 0). */
  next(): SyntheticTick {
    const token = this.#tokens[Math.floor(this.#rand() * this.#tokens.length)]!;
    const price = this.#price.get(token)! * Math.exp(this.#vol * gaussian(this.#rand));
    this.#price.set(token, price);
    const volume = this.#volume.get(token)! + 1 + Math.floor(this.#rand() * 500);
    this.#volume.set(token, volume);
    return { instrument_token: token, last_price: roundToTickSize(price), volume };
  }

  take(n: number): SyntheticTick[] {
    const out: SyntheticTick[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next();
    return out;
  }
}

/** The first `count` ticks of a random walk (pure). */
export function randomWalkTicks(o: RandomWalkOptions, count: number): SyntheticTick[] {
  return new RandomWalk(o).take(count);
}

/**
 * How many ticks are due `elapsedMs` after the start at `rate` per second,
 * capped by `limit`: the schedule is absolute, so a late timer catches up
 * instead of drifting.
 */
export function dueTicks(elapsedMs: number, rate: number, limit = Infinity): number {
  return Math.min(limit, Math.floor((Math.max(0, elapsedMs) * rate) / 1000));
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
const TICK_MS = 10;
/** Most messages in one send() call. */
const MAX_SEND = 5000;
/** Most messages awaiting acknowledgement before generation waits (librdkafka's queue holds 100,000). */
const MAX_IN_FLIGHT = 50_000;

export interface SimulateOptions {
  /** stops like SIGINT (for callers in the same process) */
  signal?: AbortSignal;
}

export async function simulateCommand(argv: string[], opts: SimulateOptions = {}): Promise<number> {
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
  if (values.help) {
    process.stdout.write(SIMULATE_USAGE);
    return 0;
  }
  const rate = positiveNumber('rate', values.rate) ?? 1000;
  const count = intOption('count', values.count, 1);
  const duration = positiveNumber('duration', values.duration);
  const seed = intOption('seed', values.seed, 0) ?? randomInt(2 ** 32);
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

  const config = applyEnvironment(loadServiceConfig(values.config));
  const kc = config.kafka;
  const topic = values.topic ?? kc.topics.ticks;
  const logger = createLogger({ level: (logLevel as LogLevel | undefined) ?? 'warn', fd: 2, format: config.log.format });
  const walk = new RandomWalk({ instruments, seed, volatility, ...(startPrice === undefined ? {} : { startPrice }) });
  const kafka = createKafka(kc, logger);

  // Stop requests: SIGINT/SIGTERM (a second one exits at once) or the caller's signal.
  // Installed first, so an early Ctrl-C still ends the run cleanly.
  let stopRequested = false;
  let wake: (() => void) | undefined;
  const requestStop = (): void => {
    stopRequested = true;
    wake?.();
  };
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (++signals > 1) {
      process.stderr.write(`simulate: ${sig} again, exiting without waiting for acknowledgements\n`);
      process.exit(130);
    }
    requestStop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  opts.signal?.addEventListener('abort', requestStop, { once: true });
  if (opts.signal?.aborted === true) requestStop();

  const lastTs = new Map<number, number>();
  const inFlight = new Set<Promise<void>>();
  let inFlightMessages = 0;
  let sent = 0;
  let acked = 0;
  let failed = 0;
  let firstError: unknown;
  const limit = Math.min(count ?? Infinity, duration === undefined ? Infinity : Math.floor(duration * rate));
  let started = Date.now();
  let t0 = performance.now();
  let progress: { stop: () => void } | undefined;
  let producer: KafkaJS.Producer | undefined;

  try {
    await ensureTopic(kafka, topic, kc.brokers, values['create-topic'] ? { partitions: partitions ?? 6, replicationFactor: kc.createTopics.replicationFactor } : undefined);
    const p = kafka.producer({
      // Idempotent: retries keep the order within a partition (timestamps stay monotonic per instrument).
      kafkaJS: { acks: -1, idempotent: true, compression: kc.producer.compression as KafkaJS.CompressionTypes },
      'linger.ms': Math.max(kc.producer.lingerMs, 5),
      // A broker that stays away fails the run instead of retrying forever.
      'message.timeout.ms': kc.producer.messageTimeoutMs > 0 ? kc.producer.messageTimeoutMs : 30_000,
      ...kc.producerOptions,
    });
    try {
      await p.connect();
    } catch (err) {
      throw kafkaError(err, `cannot connect a producer to ${kc.brokers.join(',')}`);
    }
    producer = p;

    const sendBatch = (n: number): void => {
      const now = Date.now();
      const messages: KafkaJS.Message[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const t = walk.next();
        const ts = Math.max(now, lastTs.get(t.instrument_token) ?? 0);
        lastTs.set(t.instrument_token, ts);
        messages[i] = {
          key: String(t.instrument_token),
          value: JSON.stringify({ instrument_token: t.instrument_token, last_price: t.last_price, timestamp: ts, volume: t.volume }),
        };
      }
      sent += n;
      inFlightMessages += n;
      // Fired, not awaited: delivery is awaited in bulk (below, and by the in-flight bound).
      const d: Promise<void> = p
        .send({ topic, messages })
        .then(
          () => {
            acked += n;
          },
          (err: unknown) => {
            failed += n;
            if (firstError === undefined) {
              firstError = err;
              requestStop();
            }
          },
        )
        .finally(() => {
          inFlightMessages -= n;
          inFlight.delete(d);
        });
      inFlight.add(d);
    };

    started = Date.now();
    t0 = performance.now();
    progress = startProgress(!values['no-progress'], () => ({ sent, acked, secs: (performance.now() - t0) / 1000 }));
    let slot = 0;
    while (!stopRequested && sent < limit) {
      const elapsed = performance.now() - t0;
      // Everything due by now on the absolute schedule, within the in-flight bound.
      let due = dueTicks(elapsed, rate, limit) - sent;
      while (due > 0 && inFlightMessages < MAX_IN_FLIGHT) {
        const n = Math.min(due, MAX_SEND, MAX_IN_FLIGHT - inFlightMessages);
        sendBatch(n);
        due -= n;
      }
      if (sent >= limit) break;
      slot = Math.max(slot + 1, Math.floor(elapsed / TICK_MS) + 1);
      const delay = Math.max(0, t0 + slot * TICK_MS - performance.now());
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, delay);
        function done(): void {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        }
        wake = done;
        if (stopRequested) done();
      });
    }
    // Flush: every send resolves on the broker's acknowledgement (or fails).
    while (inFlight.size > 0) await Promise.all([...inFlight]);
  } finally {
    progress?.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    opts.signal?.removeEventListener('abort', requestStop);
    await producer?.disconnect().catch((err: unknown) => logger.warn({ err }, 'producer disconnect failed'));
  }
  const seconds = (performance.now() - t0) / 1000;
  const result: SimulateResult = { topic, sent, acked, failed, seconds, seed };
  process.stderr.write(summary(result, rate, instruments.length, started) + '\n');
  if (firstError !== undefined) throw kafkaError(firstError, `delivery to ${topic} failed (${failed.toLocaleString('en-US')} ticks not acknowledged)`);
  return 0;
}

function summary(r: SimulateResult, rate: number, instruments: number, startedAt: number): string {
  const achieved = r.seconds > 0 ? r.acked / r.seconds : 0;
  return (
    `simulate: ${r.sent.toLocaleString('en-US')} sent, ${r.acked.toLocaleString('en-US')} acked` +
    (r.failed > 0 ? `, ${r.failed.toLocaleString('en-US')} failed` : '') +
    ` to ${r.topic} in ${r.seconds.toFixed(2)} s (${Math.round(achieved).toLocaleString('en-US')} ticks/s; asked ${rate.toLocaleString('en-US')}/s), ` +
    `${instruments} instruments, seed ${r.seed}, started ${new Date(startedAt).toISOString()}`
  );
}

/** Fails fast (KAFKA_UNAVAILABLE) when the broker does not answer; checks or creates the topic. */
async function ensureTopic(
  kafka: KafkaJS.Kafka,
  topic: string,
  brokers: readonly string[],
  create: { partitions: number; replicationFactor: number } | undefined,
): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    let topics: string[];
    try {
      topics = await admin.listTopics({ timeout: 5000 });
    } catch (err) {
      throw kafkaError(err, `no answer from the Kafka brokers ${brokers.join(',')}`);
    }
    if (topics.includes(topic)) return;
    if (create === undefined) {
      throw new RunnerError('KAFKA_TOPIC_MISSING', `topic ${topic} does not exist on ${brokers.join(',')} (create it, or pass --create-topic)`, {
        details: { topic },
      });
    }
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: create.partitions, replicationFactor: create.replicationFactor }] });
    } catch (err) {
      // Created meanwhile by someone else: fine.
      if (!(await admin.listTopics({ timeout: 5000 }).catch(() => [] as string[])).includes(topic)) {
        throw kafkaError(err, `cannot create topic ${topic}`);
      }
      return;
    }
    process.stderr.write(`simulate: created topic ${topic} with ${create.partitions} partitions\n`);
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

function kafkaError(err: unknown, what: string): RunnerError {
  if (err instanceof RunnerError) return err;
  const code = errorCode(err);
  return new RunnerError('KAFKA_UNAVAILABLE', `${what}: ${(err as Error)?.message ?? String(err)}`, {
    cause: err,
    details: { kafka_code: code },
  });
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

/** A progress line every second on a terminal (stderr). */
function startProgress(enabled: boolean, read: () => { sent: number; acked: number; secs: number }): { stop: () => void } {
  if (!enabled || process.stderr.isTTY !== true) return { stop: () => {} };
  const draw = (): void => {
    const { sent, acked, secs } = read();
    const rate = secs > 0 ? Math.round(acked / secs) : 0;
    process.stderr.write(`\r${sent.toLocaleString('en-US')} sent  ${acked.toLocaleString('en-US')} acked  ${rate.toLocaleString('en-US')} ticks/s  ${secs.toFixed(1)} s\x1b[K`);
  };
  const timer = setInterval(draw, 1000);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      draw();
      process.stderr.write('\n');
    },
  };
}
