import type { Logger } from 'pino';
import { startRuntime, type Runtime } from '../../src/app/runtime.js';
import { parseServiceConfig, type ServiceConfig, type ServiceConfigInput } from '../../src/config/service-config.js';
import type { ParsedConfigs } from '../../src/config/strategy-config.js';
import type { InputEvent, SignalSink } from '../../src/io/interfaces.js';
import { Pipeline, type PipelineCounters } from '../../src/pipeline/pipeline.js';
import { KafkaInput } from '../../src/transport/kafka/kafka-input.js';
import { signalTopic } from '../../src/transport/kafka/kafka-config.js';
import { KafkaSignalSink } from '../../src/transport/kafka/kafka-signal-sink.js';

/**
 * The live runner's hot path, composed from the same public components and in
 * the same order as `Service#start` (src/app/service.ts): KafkaSignalSink,
 * KafkaInput (orders.filled catch-up, warm-up, the ticks consumer group),
 * startRuntime (registry, supervisor, threads), a streaming Pipeline with the
 * configuration's in-flight bounds. What Service adds and this leaves out is
 * off the hot path: PostgreSQL, the configuration watcher, the status server,
 * the start-up retry loop. The benchmark composes it itself so that it can
 * observe the events (wrapEvents) and wrap the sink (wrapSink).
 */
export interface BenchRunnerOptions {
  config: ServiceConfigInput;
  /** directory the configuration's relative paths resolve from */
  baseDir: string;
  strategies: ParsedConfigs;
  logger: Logger;
  wrapSink?: (sink: SignalSink) => SignalSink;
  wrapEvents?: (events: AsyncIterable<InputEvent>) => AsyncIterable<InputEvent>;
}

export interface BenchRunner {
  readonly config: ServiceConfig;
  readonly input: KafkaInput;
  readonly sink: KafkaSignalSink;
  readonly runtime: Runtime;
  readonly pipeline: Pipeline;
  /** settles when the pipeline ends (after stop()) */
  readonly done: Promise<PipelineCounters | undefined>;
  /** the pipeline's failure, if any */
  failure(): unknown;
  stop(): Promise<void>;
}

export async function startBenchRunner(o: BenchRunnerOptions): Promise<BenchRunner> {
  const config = parseServiceConfig(o.config, 'bench', o.baseDir);
  const log = o.logger;
  const sink = new KafkaSignalSink(config.kafka, log);
  const input = new KafkaInput({ config: config.kafka, logger: log, deadLetter: (d) => sink.deadLetter(d) });
  const brokers = new Set(o.strategies.configs.filter((x) => x.is_active).flatMap((x) => x.brokers));
  const runtime = await startRuntime({ config, configs: o.strategies, logger: log });
  let failure: unknown;
  try {
    await sink.connect();
    const t = config.kafka.topics;
    await input.checkTopics([t.ticks, t.fills, t.deadLetter, ...[...brokers].map((b) => signalTopic(config.kafka, b))], config.kafka.createTopics);
  } catch (err) {
    await Promise.allSettled([input.close(), sink.close()]);
    await runtime.close();
    throw err;
  }
  const pipeline = new Pipeline({
    supervisor: runtime.supervisor,
    sink: o.wrapSink === undefined ? sink : o.wrapSink(sink),
    logger: log,
    maxInFlightRounds: config.dispatch.maxInFlightRounds,
    maxPendingDeliveries: config.kafka.producer.maxPendingRounds,
    mode: 'streaming',
  });
  const events = o.wrapEvents === undefined ? input.events() : o.wrapEvents(input.events());
  const done = pipeline.run(events).then(
    (c) => c,
    (err: unknown) => {
      failure = err;
      log.error({ err }, 'bench: pipeline failed');
      return undefined;
    },
  );
  await input.start();
  let stopping: Promise<void> | undefined;
  return {
    config,
    input,
    sink,
    runtime,
    pipeline,
    done,
    failure: () => failure,
    // The order of Service#stop: stop fetching, drain, commit and close the consumer, the producer, the threads.
    stop: () =>
      (stopping ??= (async () => {
        await input.stop();
        await done;
        await input.close();
        await sink.close();
        await runtime.close();
      })()),
  };
}
