import type { Logger } from 'pino';
import { LiveAssembly } from '../../src/app/live-assembly.js';
import type { Runtime } from '../../src/app/runtime.js';
import { parseServiceConfig, type ServiceConfig, type ServiceConfigInput } from '../../src/config/service-config.js';
import type { ParsedConfigs } from '../../src/config/strategy-config.js';
import type { Pipeline, PipelineCounters } from '../../src/pipeline/pipeline.js';
import type { InputEvent, SignalSink } from '../../src/ports.js';
import type { KafkaInput } from '../../src/transport/kafka/kafka-input.js';
import type { ShardedInput } from '../../src/transport/kafka/shards/sharded-input.js';
import type { KafkaSignalSink } from '../../src/transport/kafka/kafka-signal-sink.js';

/**
 * The live runner's hot path: the service's own assembly (src/app/live-assembly.ts,
 * the one Service starts), with the benchmark's strategies given instead of
 * read from PostgreSQL (so no configuration watcher) and its seams: observe
 * the events (wrapEvents) and wrap the sink (wrapSink). Start order, the
 * broker retry, the checkpoints and the shutdown deadline are the service's.
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
  readonly input: KafkaInput | ShardedInput;
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
  const stopRequest = new AbortController();
  let failure: unknown;
  const assembly = new LiveAssembly({
    config,
    logger: log,
    signal: stopRequest.signal,
    configs: o.strategies,
    onPipelineFailure: (err) => {
      failure = err;
      log.error({ err }, 'bench: pipeline failed');
    },
    ...(o.wrapSink === undefined ? {} : { wrapSink: o.wrapSink }),
    ...(o.wrapEvents === undefined ? {} : { wrapEvents: o.wrapEvents }),
  });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      stopRequest.abort();
      await assembly.stop();
    })());
  try {
    await assembly.start();
  } catch (err) {
    await stop();
    throw err;
  }
  const pipeline = assembly.pipeline!;
  return {
    config,
    input: assembly.input,
    sink: assembly.sink,
    runtime: assembly.runtime!,
    pipeline,
    done: assembly.pipelineRun!.then(() => (failure === undefined ? pipeline.counters : undefined)),
    failure: () => failure,
    stop,
  };
}
