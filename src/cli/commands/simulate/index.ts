import { randomInt } from 'node:crypto';
import { applyEnvironment, loadServiceConfig } from '../../../config/service-config.js';
import { createLogger, LOG_LEVELS } from '../../../logging/logger.js';
import { DEFAULT_INSTRUMENTS } from '../../../sim/instruments.js';
import { RandomWalk } from '../../../sim/random-walk.js';
import { holdProcess } from '../../../async/hold-process.js';
import { sleep } from '../../../timing/sleep.js';
import { createKafka } from '../../../transport/kafka/client.js';
import { kafkaError } from '../../../transport/kafka/client.js';
import { connectTickProducer, ensureTopic, TickSender } from './client.js';
import { dueTicks, MAX_IN_FLIGHT, MAX_SEND, parseSimulateArgs, TICK_MS, type SimulateResult } from './model.js';
import { startProgress, summary } from './render.js';

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

export interface SimulateOptions {
  /** stops like SIGINT (for callers in the same process) */
  signal?: AbortSignal;
}

/** `strategy-runner simulate`: a random walk's ticks to the ticks topic at a steady rate, until a limit or a stop. */
export async function simulateCommand(argv: string[], opts: SimulateOptions = {}): Promise<number> {
  const args = parseSimulateArgs(argv, () => randomInt(2 ** 32));
  if (args === 'help') {
    process.stdout.write(SIMULATE_USAGE);
    return 0;
  }
  const { rate, limit, seed, instruments } = args;
  const config = applyEnvironment(loadServiceConfig(args.config));
  const kc = config.kafka;
  const topic = args.topic ?? kc.topics.ticks;
  const logger = createLogger({ level: args.logLevel ?? 'warn', fd: 2, format: config.log.format });
  const walk = new RandomWalk({ instruments, seed, volatility: args.volatility, ...(args.startPrice === undefined ? {} : { startPrice: args.startPrice }) });
  const kafka = createKafka(kc, logger);

  // Stop requests: SIGINT/SIGTERM (a second one exits at once) or the caller's signal.
  // Installed first, so an early Ctrl-C still ends the run cleanly.
  const stop = new AbortController();
  const requestStop = (): void => stop.abort();
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

  let started = Date.now();
  let t0 = performance.now();
  let progress: { stop: () => void } | undefined;
  let sender: TickSender | undefined;
  const release = holdProcess();

  try {
    await ensureTopic(kafka, topic, kc.brokers, args.createTopic === undefined ? undefined : { partitions: args.createTopic.partitions, replicationFactor: kc.createTopics.replicationFactor });
    const s = new TickSender(await connectTickProducer(kafka, kc), topic, walk, requestStop);
    sender = s;
    started = Date.now();
    t0 = performance.now();
    progress = startProgress(args.progress, t0, () => ({ sent: s.sent, acked: s.acked }));
    let slot = 0;
    while (!stop.signal.aborted && s.sent < limit) {
      const elapsed = performance.now() - t0;
      // Everything due by now on the absolute schedule, within the in-flight bound.
      let due = dueTicks(elapsed, rate, limit) - s.sent;
      while (due > 0 && s.inFlightMessages < MAX_IN_FLIGHT) {
        const n = Math.min(due, MAX_SEND, MAX_IN_FLIGHT - s.inFlightMessages);
        s.send(n);
        due -= n;
      }
      if (s.sent >= limit) break;
      slot = Math.max(slot + 1, Math.floor(elapsed / TICK_MS) + 1);
      await sleep(Math.max(0, t0 + slot * TICK_MS - performance.now()), stop.signal);
    }
    await s.flush();
  } finally {
    release();
    progress?.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    opts.signal?.removeEventListener('abort', requestStop);
    await sender?.producer.disconnect().catch((err: unknown) => logger.warn({ err }, 'producer disconnect failed'));
  }
  const seconds = (performance.now() - t0) / 1000;
  const { sent = 0, acked = 0, failed = 0, firstError } = sender ?? {};
  const result: SimulateResult = { topic, sent, acked, failed, seconds, seed };
  process.stderr.write(summary(result, rate, instruments.length, started) + '\n');
  if (firstError !== undefined) throw kafkaError(firstError, `delivery to ${topic} failed (${failed.toLocaleString('en-US')} ticks not acknowledged)`);
  return 0;
}
