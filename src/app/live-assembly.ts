import type { Logger } from 'pino';
import type { ServiceConfig } from '../config/service-config.js';
import type { ParsedConfigs } from '../config/strategy-config.js';
import { RunnerError } from '../errors.js';
import { Pipeline } from '../pipeline/pipeline.js';
import type { InputEvent, SignalSink } from '../ports.js';
import { Backoff } from '../timing/backoff.js';
import { TIMED_OUT, sleep, within } from '../timing/sleep.js';
import { kafkaError } from '../transport/kafka/client.js';
import { signalTopic } from '../transport/kafka/kafka-config.js';
import { KafkaInput } from '../transport/kafka/kafka-input.js';
import { KafkaSignalSink } from '../transport/kafka/kafka-signal-sink.js';
import { shardInstance } from '../transport/kafka/kafka-config.js';
import { ShardSignalGate } from '../transport/kafka/shards/shard-signal-gate.js';
import { ShardedInput } from '../transport/kafka/shards/sharded-input.js';
import type { StrategyConfig } from '../config/strategy-config.js';
import { startRuntime, type Runtime, type RuntimeOptions } from './runtime.js';
import { StrategyConfigLoading, type ConfigWatchStatus } from './strategy-config-loading.js';
import type { StatusSections } from '../status/status-document.js';
import { SnapshotBook } from '../snapshots/snapshot-book.js';
import { SnapshotCutter } from '../snapshots/snapshot-cutter.js';
import { SnapshotStore } from '../transport/postgres/snapshot-store.js';

/**
 * The seams of the live assembly. Service passes its status hooks; the e2e
 * benchmark passes its strategies and wraps the sink and the events.
 */
export interface LiveAssemblyOptions {
  config: ServiceConfig;
  logger: Logger;
  /** aborts when a stop is requested: the start ends at its next step, a retry wait ends at once */
  signal: AbortSignal;
  /** fixed strategy configurations (no database, no watching); default: strategy-config-loading from `config` */
  configs?: ParsedConfigs;
  /** extra /status sections, /readyz reasons and warnings of the owner (the service's state) */
  statusExtra?: () => StatusSections;
  notReadyReasons?: () => string[];
  /** whether re-read configurations still apply (the owner is starting or running) */
  live?: () => boolean;
  /** the pipeline failed while running: the owner stops */
  onPipelineFailure?: (err: unknown) => void;
  wrapSink?: (sink: SignalSink) => SignalSink;
  wrapEvents?: (events: AsyncIterable<InputEvent>) => AsyncIterable<InputEvent>;
}

export interface StopResult {
  /** a step did not finish within what was left of the deadline */
  timedOut: boolean;
}

/**
 * The live service put together, in order: the strategy-configuration source,
 * the Kafka signal sink, the Kafka input, the runtime (status server first,
 * then the configurations, registry, supervisor, threads), the broker check
 * (retried with back-off while the broker is away), the streaming pipeline,
 * the input's start, the configuration watcher. `stop()` takes it apart in
 * the order that loses nothing, within one deadline.
 */
export class LiveAssembly {
  readonly config: ServiceConfig;
  readonly #log: Logger;
  readonly #o: LiveAssemblyOptions;
  readonly loading: StrategyConfigLoading | undefined;
  readonly sink: KafkaSignalSink;
  readonly input: KafkaInput | ShardedInput;
  /** set when kafka.shards.enabled: the runner holds the shards the group gives it */
  readonly sharded: ShardedInput | undefined;
  readonly #gate: ShardSignalGate | undefined;
  /** strategy state across restarts: set when snapshots are enabled and strategies come from PostgreSQL (unsharded) */
  readonly #snapshots: { store: SnapshotStore; book: SnapshotBook } | undefined;
  #cutter: SnapshotCutter | undefined;
  /** the whole of the latest configurations read (a sharded runner runs its shards' part of them) */
  #latest: ParsedConfigs = { configs: [], errors: [] };
  #runtime: Runtime | undefined;
  #pipeline: Pipeline | undefined;
  #pipelineRun: Promise<void> | undefined;
  #starting: Promise<void> | undefined;
  /** what the start is waiting for (a broker, a database), for /readyz */
  #waitingFor: string | undefined;
  #clientClosesInFlight = 0;

  /** Builds the configuration source, the sink and the input (nothing connects yet). */
  constructor(o: LiveAssemblyOptions) {
    this.config = o.config;
    this.#log = o.logger;
    this.#o = o;
    if (o.configs === undefined) {
      this.loading = new StrategyConfigLoading({ config: o.config, logger: o.logger, signal: o.signal, waitingFor: (w) => (this.#waitingFor = w) });
    }
    const k = o.config.kafka;
    const sink = new KafkaSignalSink(k, o.logger, k.shards.enabled ? { runner: shardInstance(k) } : {});
    this.sink = sink;
    if (k.shards.enabled) {
      const sharded = new ShardedInput({ config: k, logger: o.logger, deadLetter: (d) => sink.deadLetter(d), onShards: () => this.#applyHeld() });
      this.sharded = sharded;
      this.input = sharded;
      // Exactly-once: the gate hands signals to the shards' transactions; at-least-once: straight to the producer.
      this.#gate = new ShardSignalGate(sharded.transactions ?? sink, sharded.book, sharded.shardCounters);
    } else {
      this.sharded = undefined;
      this.#gate = undefined;
      this.input = new KafkaInput({ config: k, logger: o.logger, deadLetter: (d) => sink.deadLetter(d) });
    }
    const sql = this.loading?.sql;
    if (!o.config.snapshots.enabled) this.#snapshots = undefined;
    else if (sql === undefined || k.shards.enabled) {
      this.#snapshots = undefined;
      o.logger.info({ reason: sql === undefined ? 'strategies do not come from PostgreSQL' : 'kafka.shards is enabled' }, 'strategy snapshots are off');
    } else {
      this.#snapshots = { store: new SnapshotStore(sql), book: new SnapshotBook(o.logger.child({ component: 'snapshots' })) };
    }
  }

  get runtime(): Runtime | undefined {
    return this.#runtime;
  }

  get pipeline(): Pipeline | undefined {
    return this.#pipeline;
  }

  /** settles when the pipeline's run ends (undefined before it runs) */
  get pipelineRun(): Promise<void> | undefined {
    return this.#pipelineRun;
  }

  get waitingFor(): string | undefined {
    return this.#waitingFor;
  }

  get clientCloseInFlight(): boolean {
    return this.#clientClosesInFlight > 0;
  }

  /** The configuration watcher's state for /status (`config_watch`). */
  configWatch(): ConfigWatchStatus | null {
    return this.loading?.watchStatus() ?? null;
  }

  /** Between start-up steps: give up when a stop was requested. */
  #checkpoint(): void {
    if (this.#o.signal.aborted) throw new RunnerError('SUPERVISOR_STATE', 'start-up interrupted by a stop request');
  }

  /** Start everything, in order (once). */
  start(): Promise<void> {
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    const c = this.config;
    const { sink, input, loading } = this;
    let configs: ParsedConfigs | undefined;
    // The status server comes up first: while PostgreSQL does not answer, /readyz says so.
    this.#runtime = await startRuntime(this.#runtimeOptions(async () => {
      const loaded = loading === undefined ? this.#o.configs! : await loading.initial();
      this.#waitingFor = undefined;
      this.#checkpoint();
      this.#log.info({ source: loading?.source.name ?? 'given', configs: loaded.configs.length, invalid: loaded.errors.length }, 'strategy configurations loaded');
      configs = loaded;
      this.#latest = loaded;
      await this.#loadSnapshots(loaded);
      this.#warmFromSnapshots(loaded.configs.filter((x) => x.is_active));
      // Sharded: no strategy runs before the group gives this runner shards.
      return this.sharded === undefined ? loaded : this.#heldPart(loaded);
    }));
    this.#checkpoint();
    const brokers = new Set(configs!.configs.filter((x) => x.is_active).flatMap((x) => x.brokers));
    // The threads and the status server are up: /readyz says "not ready" while the broker is away.
    await this.#untilKafka(async () => {
      await sink.connect();
      await input.checkTopics([c.kafka.topics.ticks, c.kafka.topics.fills, c.kafka.topics.deadLetter, ...[...brokers].map((b) => signalTopic(c.kafka, b))], c.kafka.createTopics);
    });
    const gated = this.#gate ?? sink;
    const pipeline = new Pipeline({
      supervisor: this.#runtime.supervisor,
      sink: this.#o.wrapSink === undefined ? gated : this.#o.wrapSink(gated),
      fillsForOthers: this.sharded !== undefined,
      logger: this.#log,
      maxInFlightRounds: c.dispatch.maxInFlightRounds,
      maxPendingDeliveries: c.kafka.producer.maxPendingRounds,
      mode: 'streaming',
    });
    this.#checkpoint();
    this.#pipeline = pipeline;
    const events = this.#o.wrapEvents === undefined ? input.events() : this.#o.wrapEvents(input.events());
    this.#pipelineRun = pipeline.run(events).then(
      () => undefined,
      (err: unknown) => this.#o.onPipelineFailure?.(err),
    );
    await input.start();
    this.#checkpoint();
    if (this.#snapshots !== undefined && this.#snapshots.book.enabled) {
      this.#cutter = new SnapshotCutter({
        supervisor: this.#runtime.supervisor,
        pipeline,
        store: this.#snapshots.store,
        book: this.#snapshots.book,
        positions: () => (this.input as KafkaInput).deliveredPositions(),
        runner: shardInstance(c.kafka),
        intervalMs: c.snapshots.intervalMs,
        logger: this.#log.child({ component: 'snapshots' }),
      });
      this.#cutter.start();
    }
    if (c.strategies.watch && loading !== undefined) await loading.watch((parsed, reason) => this.#apply(parsed, reason));
  }

  /**
   * Before the strategies start: the stored snapshots of the configured
   * strategies, and where the input's warm-up must start for those that will
   * continue from them. A store that cannot be read (no migration, the
   * database away) turns snapshots off for this run, with a warning.
   */
  async #loadSnapshots(loaded: ParsedConfigs): Promise<void> {
    const snaps = this.#snapshots;
    if (snaps === undefined) return;
    let stored;
    try {
      stored = await snaps.store.load(loaded.configs.filter((x) => x.is_active).map((x) => x.id));
    } catch (err) {
      snaps.book.enabled = false;
      this.#log.warn({ err: (err as Error).message }, 'strategy snapshots are off for this run: the strategy_snapshots table cannot be read (run strategy-runner migrate)');
      return;
    }
    for (const s of stored.values()) snaps.book.put(s);
    this.#log.info({ snapshots: stored.size }, 'strategy snapshots loaded');
  }

  /** Once the registry exists: the warm-up floor of the snapshots that will be used. */
  #warmFromSnapshots(configs: readonly StrategyConfig[]): void {
    const snaps = this.#snapshots;
    if (snaps === undefined || !(this.input instanceof KafkaInput)) return;
    for (const config of configs) {
      const s = snaps.book.usable(config);
      if (s !== undefined) this.input.warmFrom(s.position.partitions);
    }
  }

  #runtimeOptions(configs: () => Promise<ParsedConfigs>): RuntimeOptions {
    const { input, sink } = this;
    return {
      config: this.config,
      configs,
      ...(this.#snapshots === undefined ? {} : { snapshots: this.#snapshots.book }),
      logger: this.#log,
      statusExtra: () => ({
        consumer: input.status(),
        producer: sink.status(),
        pipeline: this.#pipeline?.status() ?? null,
        config_watch: this.configWatch(),
        snapshots: this.#cutter?.status() ?? null,
        ...(this.sharded === undefined ? {} : { shards: this.sharded.shardsStatus((id) => this.#strategiesOfShard(id)) }),
        ...(this.sharded?.transactions === undefined ? {} : { transactions: this.sharded.transactions.status() }),
        ...this.#o.statusExtra?.(),
      }),
      notReadyReasons: () => this.#notReadyReasons(),
      warnings: () => this.loading?.warnings() ?? [],
      metrics: {
        pipeline: () => this.#pipeline?.counters,
        consumer: () => ({ lag: input.lag(), ...input.counters }),
        producer: () => ({ inFlight: sink.inFlight, deadLettered: sink.deadLettered, queueFullWaits: sink.queueFullWaits }),
        ...(this.sharded === undefined ? {} : { shards: () => this.sharded?.shardsStatus((id) => this.#strategiesOfShard(id)) }),
        ...(this.sharded?.transactions === undefined ? {} : { transactions: () => this.sharded?.transactions?.status() }),
        ...(this.#snapshots === undefined ? {} : { snapshots: () => this.#cutter?.status() }),
      },
    };
  }

  /** Why the service is not ready, most fundamental first; empty when it is. */
  #notReadyReasons(): string[] {
    const { input, sink } = this;
    const reasons: string[] = [...(this.#o.notReadyReasons?.() ?? [])];
    reasons.push(...input.readiness().reasons);
    if (input.state !== 'created') {
      if (!sink.connected) reasons.push('signal producer not connected');
      else if (!sink.healthy()) reasons.push('signals handed to the producer have waited more than 10 s for the broker to acknowledge them');
    }
    return reasons;
  }

  /** Apply configurations re-read while running (hot reload). */
  async #apply(parsed: ParsedConfigs, reason: string): Promise<void> {
    if (this.#o.live?.() === false) return;
    for (const err of parsed.errors) this.#log.error({ code: err.code, details: err.details }, err.message);
    // Signals of a new broker need their topic before the strategy starts emitting.
    const brokers = new Set(parsed.configs.filter((x) => x.is_active).flatMap((x) => x.brokers));
    await this.input.checkTopics([...brokers].map((b) => signalTopic(this.config.kafka, b)), this.config.kafka.createTopics);
    this.#latest = parsed;
    const applied = this.sharded === undefined ? parsed : this.#heldPart(parsed);
    const report = await this.#runtime!.supervisor.applyConfigs(applied.configs, applied.errors);
    if (report.added.length + report.removed.length + report.changed.length + report.rejected.length > 0) {
      this.#log.info({ reason, ...report }, 'configuration reloaded');
    }
  }

  /** The configurations (and row errors) of the strategies whose shards this runner holds. */
  #heldPart(parsed: ParsedConfigs): ParsedConfigs {
    const input = this.sharded!;
    const held = input.held();
    const mine = (id: unknown): boolean => typeof id === 'string' && held.has(input.book.index.of(id));
    return { configs: parsed.configs.filter((c: StrategyConfig) => mine(c.id)), errors: parsed.errors.filter((e) => mine(e.details['strategy_id'])) };
  }

  /** The active strategies of a shard (for /status). */
  #strategiesOfShard(shard: number): string[] {
    const index = this.sharded!.book.index;
    return this.#latest.configs.filter((c) => c.is_active && index.of(c.id) === shard).map((c) => c.id);
  }

  /**
   * The shards held here changed: start the strategies of acquired shards
   * (not re-warmed from the supervisor's recent ticks: the input warms them
   * from their own position), stop those of released or dropped ones.
   */
  async #applyHeld(): Promise<void> {
    const supervisor = this.#runtime?.supervisor;
    if (supervisor === undefined || supervisor.state !== 'running') return;
    const part = this.#heldPart(this.#latest);
    try {
      const report = await supervisor.applyConfigs(part.configs, part.errors, { rewarm: false });
      if (report.added.length + report.removed.length + report.changed.length + report.rejected.length > 0) {
        this.#log.info({ held: [...this.sharded!.held()].sort((a, b) => a - b), ...report }, 'strategies of the shards held here applied');
      }
    } catch (err) {
      // The shards stay held (their ticks flow to whichever of their strategies run); a strategy that did not start is reported as rejected.
      this.#log.error({ err, held: [...this.sharded!.held()] }, 'applying the strategies of the shards held here failed');
    }
  }

  /** Retry a Kafka step with back-off (1 s doubling to 30 s) until it succeeds or a stop is requested; a non-retryable error (a missing topic) is final. */
  async #untilKafka(step: () => Promise<void>): Promise<void> {
    const since = new Date().toISOString();
    const backoff = new Backoff({ initialMs: 1000, maxMs: 30_000 });
    for (let attempt = 1; ; attempt++) {
      try {
        await step();
        this.#waitingFor = undefined;
        return;
      } catch (err) {
        const e = kafkaError(err, 'connecting to Kafka');
        if (!e.retryable) throw e;
        this.#waitingFor = `Kafka broker unreachable at start since ${since} (${attempt} attempts; last: ${(err as Error).message})`;
        if (this.#o.signal.aborted) throw new RunnerError('KAFKA_UNAVAILABLE', `broker unreachable and the service is stopping: ${(err as Error).message}`, { cause: err });
        const delay = backoff.next();
        this.#log.warn({ attempt, retry_in_ms: delay, err: (err as Error).message, brokers: this.config.kafka.brokers }, 'Kafka unreachable; retrying');
        await sleep(delay, this.#o.signal);
      }
    }
  }

  /**
   * Stop fetching, let the threads finish what they hold, deliver every
   * pending signal, commit, close; each step gets what is left of
   * shutdown.deadlineMs. Call it after aborting the signal. Every step runs,
   * whatever the earlier ones did.
   */
  async stop(): Promise<StopResult> {
    const c = this.config;
    const end = Date.now() + c.shutdown.deadlineMs;
    const remaining = (): number => Math.max(0, end - Date.now());
    let timedOut = false;
    const step = async (what: string, fn: () => Promise<unknown> | undefined, atLeastMs = 0): Promise<void> => {
      try {
        const p = fn();
        if (p === undefined) return;
        if ((await within(p, Math.max(atLeastMs, remaining()))) === TIMED_OUT) {
          timedOut = true;
          this.#log.warn({ step: what, deadline_ms: c.shutdown.deadlineMs }, 'shutdown step did not finish within the deadline');
        }
      } catch (err) {
        this.#log.warn({ err, step: what }, 'shutdown step failed');
      }
    };
    // A start still under way stops at its next step (the aborted signal is its
    // checkpoint); stopping the input first ends its waits (orders.filled, warm-up).
    await step('stop fetching', () => this.input.stop());
    await step('interrupt start-up', () => this.#starting?.catch(() => undefined));
    await step('stop watching configurations', () => this.loading?.stopWatching());
    await step('stop snapshot cuts', () => this.#cutter?.stop());
    await step('drain pipeline', () => this.#pipelineRun);
    // Every signal is delivered and the threads still run: the state they stop in.
    await step('final snapshot', () => this.#cutter?.cut('shutdown'));
    // The Kafka clients get at least shutdown.clientCloseMs each, deadline or
    // not: a client left mid-close would keep the process from exiting.
    const clientMs = c.shutdown.clientCloseMs;
    await step('commit and close consumer', () => this.#trackClose(this.input.close()), clientMs);
    await step('close producer', () => this.#trackClose(this.sink.close()), clientMs);
    await step('stop threads', () => this.#runtime?.close(Math.max(100, remaining())));
    await step('close database', () => this.loading?.close(Math.max(1, Math.floor(remaining() / 1000))));
    return { timedOut };
  }

  /** Counts a Kafka client close as in flight until it settles (whatever the deadline). */
  #trackClose(p: Promise<void>): Promise<void> {
    this.#clientClosesInFlight++;
    return p.finally(() => this.#clientClosesInFlight--);
  }
}
