import type { Logger } from 'pino';
import type { Sql } from 'postgres';
import type { ServiceConfig } from '../config/service-config.js';
import { RunnerError, exitCodeFor } from '../errors.js';
import { FileConfigSource } from '../io/file-config-source.js';
import type { ConfigSource } from '../io/interfaces.js';
import { Pipeline } from '../pipeline/pipeline.js';
import { kafkaError } from '../transport/kafka/client.js';
import { KafkaInput } from '../transport/kafka/kafka-input.js';
import { signalTopic } from '../transport/kafka/kafka-config.js';
import { KafkaSignalSink } from '../transport/kafka/kafka-signal-sink.js';
import { connectPostgres, postgresError, probe, redactUrl } from '../transport/postgres/connect.js';
import { PostgresConfigSource } from '../transport/postgres/postgres-config-source.js';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { writeConfigCache } from '../io/config-cache.js';
import { startRuntime, type Runtime } from './runtime.js';
import type { ParsedConfigs } from '../config/strategy-config.js';
import { FileConfigWatcher } from '../io/file-config-watcher.js';
import { ConfigChangeListener } from '../transport/postgres/config-listener.js';

/**
 * Lifecycle of the live service:
 *   created → starting → running → stopping → stopped
 *   starting | running → failed (a fatal error: the process should exit non-zero)
 */
export type ServiceState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

/**
 * `strategy-runner run`: strategy configurations from PostgreSQL (or a file),
 * ticks and fills from Kafka, signals to Kafka, offsets committed only after
 * the signals they produced are acknowledged.
 */
export class Service {
  readonly #c: ServiceConfig;
  readonly #log: Logger;
  #state: ServiceState = 'created';
  #sql: Sql | undefined;
  #source: ConfigSource | undefined;
  #sink: KafkaSignalSink | undefined;
  #input: KafkaInput | undefined;
  #runtime: Runtime | undefined;
  #pipeline: Pipeline | undefined;
  #pipelineRun: Promise<unknown> | undefined;
  #watcher: ConfigChangeListener | FileConfigWatcher | undefined;
  #startedFromCache = false;
  /** what the start is waiting for (a broker, a database), for /readyz */
  #waitingFor: string | undefined;
  #starting: Promise<void> | undefined;
  #stopRequested = false;
  #stopping: Promise<number> | undefined;
  #clientClosesInFlight = 0;
  #fatal: unknown;
  #done!: (code: number) => void;
  /** Resolves with the exit code once the service has stopped, on request or after a fatal error. */
  readonly finished: Promise<number> = new Promise((resolve) => (this.#done = resolve));

  constructor(config: ServiceConfig, logger: Logger) {
    this.#c = config;
    this.#log = logger;
  }

  get state(): ServiceState {
    return this.#state;
  }

  /**
   * True while a Kafka client's close is running (also after the stop gave up
   * waiting for it): that close holds a libuv thread which process.exit()
   * joins, so the process would never end. The CLI exits with SIGKILL then.
   */
  get clientCloseInFlight(): boolean {
    return this.#clientClosesInFlight > 0;
  }

  get statusPort(): number | undefined {
    return this.#runtime?.statusPort;
  }

  get runtime(): Runtime | undefined {
    return this.#runtime;
  }

  /**
   * Start everything, in order. A stop() requested meanwhile ends the start
   * at the next step (start() then resolves; `finished` gives exit code 0).
   */
  async start(): Promise<void> {
    if (this.#state !== 'created') throw new RunnerError('SUPERVISOR_STATE', `Service.start() in state ${this.#state}`);
    this.#state = 'starting';
    this.#starting = this.#start();
    try {
      await this.#starting;
      if (this.#stopRequested) return;
      this.#state = 'running';
      this.#log.info({ status_port: this.statusPort ?? null }, 'strategy-runner running');
    } catch (err) {
      if (this.#stopRequested) return; // the stop interrupted the start: not a failure
      this.#fatal = err;
      this.#state = 'failed';
      await this.stop();
      throw err;
    }
  }

  /** Between start-up steps: give up when a stop was requested. */
  #checkpoint(): void {
    if (this.#stopRequested) throw new RunnerError('SUPERVISOR_STATE', 'start-up interrupted by a stop request');
  }

  async #start(): Promise<void> {
    const c = this.#c;
    const source = await this.#configSource();
    this.#source = source;
    this.#sink = new KafkaSignalSink(c.kafka, this.#log);
    const sink = this.#sink;
    this.#input = new KafkaInput({ config: c.kafka, logger: this.#log, deadLetter: (d) => sink.deadLetter(d) });
    const input = this.#input;

    let pipeline: Pipeline | undefined;
    let configs: ParsedConfigs | undefined;
    // The status server comes up first: while PostgreSQL does not answer, /readyz says so.
    this.#runtime = await startRuntime({
      config: c,
      configs: async () => {
        const loaded = await this.#initialConfigs(source);
        this.#waitingFor = undefined;
        this.#checkpoint();
        this.#log.info({ source: source.name, configs: loaded.configs.length, invalid: loaded.errors.length }, 'strategy configurations loaded');
        configs = loaded;
        return loaded;
      },
      logger: this.#log,
      statusExtra: () => ({ consumer: input.status(), producer: sink.status(), pipeline: pipeline?.counters ?? null, service_state: this.#state }),
      notReadyReasons: () => this.#notReadyReasons(input, sink),
      warnings: () => this.#warnings(),
      metrics: {
        pipeline: () => pipeline?.counters,
        consumer: () => ({ lag: input.lag(), ...input.counters }),
        producer: () => ({ inFlight: sink.inFlight, deadLettered: sink.deadLettered }),
      },
    });
    this.#checkpoint();
    const brokers = new Set(configs!.configs.filter((x) => x.is_active).flatMap((x) => x.brokers));
    // The threads and the status server are up: /readyz says "not ready" while the broker is away.
    await this.#untilKafka(async () => {
      await sink.connect();
      await input.checkTopics([c.kafka.topics.ticks, c.kafka.topics.fills, c.kafka.topics.deadLetter, ...[...brokers].map((b) => signalTopic(c.kafka, b))], c.kafka.createTopics);
    });
    pipeline = new Pipeline({
      supervisor: this.#runtime.supervisor,
      sink,
      logger: this.#log,
      maxInFlightRounds: c.dispatch.maxInFlightRounds,
      maxPendingDeliveries: c.kafka.producer.maxPendingRounds,
      mode: 'streaming',
    });
    this.#checkpoint();
    this.#pipeline = pipeline;
    this.#pipelineRun = pipeline.run(input.events()).then(
      () => undefined,
      (err: unknown) => {
        this.#log.fatal({ err }, 'pipeline failed; stopping without committing past the failure');
        this.#fatal ??= err;
        void this.stop();
      },
    );
    await input.start();
    this.#checkpoint();
    if (c.strategies.watch) await this.#watchConfigs();
  }

  /** Why the service is not ready, most fundamental first; empty when it is. */
  #notReadyReasons(input: KafkaInput, sink: KafkaSignalSink): string[] {
    const reasons: string[] = [];
    if (this.#state === 'starting' && this.#waitingFor !== undefined) reasons.push(this.#waitingFor);
    else if (this.#state !== 'running') reasons.push(`service ${this.#state}`);
    reasons.push(...input.readiness().reasons);
    if (input.state !== 'created') {
      if (!sink.connected) reasons.push('signal producer not connected');
      else if (!sink.healthy()) reasons.push('signals handed to the producer have waited more than 10 s for the broker to acknowledge them');
    }
    return reasons;
  }

  /** Degradations that do not stop the service from working. */
  #warnings(): string[] {
    const out: string[] = [];
    const w = this.#watcher;
    if (w instanceof ConfigChangeListener) {
      const st = w.stats;
      if (st.lastError !== null && (st.lastReloadAt === null || st.lastError.at > st.lastReloadAt)) {
        out.push(`strategy configurations cannot be re-read since ${st.lastError.at} ([${st.lastError.code}] ${st.lastError.message}); running on the configurations it has`);
      }
    }
    if (this.#startedFromCache) out.push('started from the configuration cache file: PostgreSQL did not answer at start');
    return out;
  }

  /** Re-read the strategy configurations now (SIGHUP). */
  reload(): void {
    const w = this.#watcher;
    if (w instanceof ConfigChangeListener) w.requestReload('notify');
    else if (w instanceof FileConfigWatcher) w.requestReload('sighup');
    else this.#log.info('reload requested, but configuration watching is off (strategies.watch)');
  }

  /** Retry a Kafka step with back-off (1 s doubling to 30 s) until it succeeds or the service stops; a non-retryable error (a missing topic) is final. */
  async #untilKafka(step: () => Promise<void>): Promise<void> {
    const since = new Date().toISOString();
    for (let attempt = 1, delay = 1000; ; attempt++, delay = Math.min(30_000, delay * 2)) {
      try {
        await step();
        this.#waitingFor = undefined;
        return;
      } catch (err) {
        const e = kafkaError(err, 'connecting to Kafka');
        if (!e.retryable) throw e;
        this.#waitingFor = `Kafka broker unreachable at start since ${since} (${attempt} attempts; last: ${(err as Error).message})`;
        if (this.#stopRequested) throw new RunnerError('KAFKA_UNAVAILABLE', `broker unreachable and the service is stopping: ${(err as Error).message}`, { cause: err });
        this.#log.warn({ attempt, retry_in_ms: delay, err: (err as Error).message, brokers: this.#c.kafka.brokers }, 'Kafka unreachable; retrying');
        await this.#sleep(delay);
      }
    }
  }

  /** A sleep that ends early when the service is asked to stop. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      const wake = this.#wakeSleepers;
      function done(): void {
        clearTimeout(t);
        wake.delete(done);
        resolve();
      }
      wake.add(done);
    });
  }

  readonly #wakeSleepers = new Set<() => void>();

  /** Apply configuration changes while running (hot reload). */
  async #watchConfigs(): Promise<void> {
    const runtime = this.#runtime!;
    const source = this.#source!;
    const apply = async (parsed: ParsedConfigs, reason: string): Promise<void> => {
      if (this.#state !== 'running' && this.#state !== 'starting') return;
      for (const err of parsed.errors) this.#log.error({ code: err.code, details: err.details }, err.message);
      // Signals of a new broker need their topic before the strategy starts emitting.
      const brokers = new Set(parsed.configs.filter((x) => x.is_active).flatMap((x) => x.brokers));
      await this.#input?.checkTopics([...brokers].map((b) => signalTopic(this.#c.kafka, b)), this.#c.kafka.createTopics);
      const report = await runtime.supervisor.applyConfigs(parsed.configs, parsed.errors);
      if (report.added.length + report.removed.length + report.changed.length + report.rejected.length > 0) {
        this.#log.info({ reason, ...report }, 'configuration reloaded');
      }
    };
    if (this.#sql !== undefined) {
      const listener = new ConfigChangeListener(this.#sql, () => this.#load(source), apply, {
        logger: this.#log,
        // Started from the cache: re-read often until PostgreSQL answers (the listener also reloads when LISTEN comes back).
        intervalMs: this.#startedFromCache ? Math.min(5000, this.#c.strategies.reloadIntervalMs || 5000) : this.#c.strategies.reloadIntervalMs,
      });
      await listener.start();
      this.#watcher = listener;
      // Anything changed between the first load and LISTEN.
      listener.requestReload('reconnect');
    } else if (source instanceof FileConfigSource) {
      // No signal listener of its own: SIGHUP reaches reload() (run installs it), once.
      const watcher = new FileConfigWatcher(source.path, apply, { logger: this.#log, signal: null });
      await watcher.start();
      this.#watcher = watcher;
      watcher.requestReload('file-change');
    }
  }

  async #configSource(): Promise<ConfigSource> {
    const c = this.#c;
    if (c.strategies.source === 'file') return new FileConfigSource(resolve(c.baseDir, c.strategies.file!));
    const url = c.postgres.url;
    if (url === null) {
      throw new RunnerError('CONFIG_INVALID', 'strategies come from PostgreSQL but no database is configured: set DATABASE_URL or postgres.url (or strategies.source "file")');
    }
    this.#sql = connectPostgres({ ...c.postgres, url }, this.#log);
    return new PostgresConfigSource(this.#sql);
  }

  #cachePath(): string | undefined {
    const f = this.#c.strategies.cacheFile;
    return f === null ? undefined : resolve(this.#c.baseDir, f);
  }

  /** Load from the source and keep a copy in the cache file (PostgreSQL only). */
  async #load(source: ConfigSource): Promise<ParsedConfigs> {
    const parsed = await source.load();
    const cache = this.#cachePath();
    if (cache !== undefined && source instanceof PostgresConfigSource) {
      try {
        writeConfigCache(cache, parsed);
      } catch (err) {
        this.#log.warn({ err, path: cache }, 'could not write the configuration cache file');
      }
    }
    return parsed;
  }

  /**
   * The configurations to start with. PostgreSQL unreachable: retry with
   * back-off (1 s doubling to 30 s), logging each attempt; once
   * fallbackAfterMs has passed and a cache file exists, start from it (the
   * listener switches to the table when it answers again).
   */
  async #initialConfigs(source: ConfigSource): Promise<ParsedConfigs> {
    if (!(source instanceof PostgresConfigSource)) return source.load();
    const t0 = Date.now();
    const cache = this.#cachePath();
    for (let attempt = 1, delay = 1000; ; attempt++, delay = Math.min(30_000, delay * 2)) {
      try {
        await probe(this.#sql!);
        return await this.#load(source);
      } catch (err) {
        const e = postgresError(err, 'reading strategy configurations');
        if (!e.retryable) throw e;
        const waited = Date.now() - t0;
        this.#waitingFor = `PostgreSQL unreachable since ${new Date(t0).toISOString()}: strategy configurations cannot be read (${attempt} attempts; last: ${(err as Error).message})`;
        this.#log.warn(
          { attempt, waited_ms: waited, retry_in_ms: delay, err: (err as Error).message, database: redactUrl(this.#c.postgres.url ?? '') },
          'PostgreSQL unreachable: strategy configurations cannot be read yet; retrying',
        );
        if (cache !== undefined && waited >= this.#c.strategies.fallbackAfterMs && existsSync(cache)) {
          this.#log.warn({ path: cache }, 'starting from the last known configurations (cache file) until PostgreSQL answers');
          this.#startedFromCache = true;
          return new FileConfigSource(cache).load();
        }
        if (this.#stopRequested) throw new RunnerError('DATABASE_UNAVAILABLE', `PostgreSQL unreachable and the service is stopping: ${(err as Error).message}`, { cause: err });
        await this.#sleep(delay);
      }
    }
  }

  /**
   * Stop fetching, let the threads finish what they hold, deliver every
   * pending signal, commit, close. Resolves with the exit code: 0 after a
   * clean stop within the deadline, 1 after a fatal error or a missed deadline,
   * 78 after a configuration error (exitCodeFor).
   * Idempotent.
   */
  stop(): Promise<number> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<number> {
    this.#stopRequested = true;
    for (const wake of [...this.#wakeSleepers]) wake();
    if (this.#state !== 'failed') this.#state = 'stopping';
    // One deadline for the whole stop; each step gets what is left of it.
    const end = Date.now() + this.#c.shutdown.deadlineMs;
    const remaining = (): number => Math.max(0, end - Date.now());
    let timedOut = false;
    const step = async (what: string, fn: () => Promise<unknown> | undefined, atLeastMs = 0): Promise<void> => {
      try {
        const p = fn();
        if (p === undefined) return;
        const r = await withDeadline(p.then(() => DONE), Math.max(atLeastMs, remaining()));
        if (r !== DONE) {
          timedOut = true;
          this.#log.warn({ step: what, deadline_ms: this.#c.shutdown.deadlineMs }, 'shutdown step did not finish within the deadline');
        }
      } catch (err) {
        this.#log.warn({ err, step: what }, 'shutdown step failed');
      }
    };
    // A start still under way stops at its next step (the stop request is its
    // checkpoint); stopping the input first ends its waits (orders.filled, warm-up).
    await step('stop fetching', () => this.#input?.stop());
    await step('interrupt start-up', () => this.#starting?.catch(() => undefined));
    await step('stop watching configurations', () => this.#watcher?.stop());
    await step('drain pipeline', () => this.#pipelineRun);
    // The Kafka clients get at least shutdown.clientCloseMs each, deadline or
    // not: a client left mid-close would keep the process from exiting.
    const clientMs = this.#c.shutdown.clientCloseMs;
    await step('commit and close consumer', () => this.#trackClose(this.#input?.close()), clientMs);
    await step('close producer', () => this.#trackClose(this.#sink?.close()), clientMs);
    await step('stop threads', () => this.#runtime?.close(Math.max(100, remaining())));
    await step('close database', () => this.#sql?.end({ timeout: Math.max(1, Math.floor(remaining() / 1000)) }));
    // A configuration error gives 78 (EX_CONFIG): systemd and pm2 do not restart it.
    const code = this.#fatal !== undefined ? exitCodeFor(this.#fatal) : timedOut ? 1 : 0;
    if (this.#state !== 'failed') this.#state = this.#fatal === undefined ? 'stopped' : 'failed';
    this.#log.info({ exit_code: code, timed_out: timedOut, counters: this.#pipeline?.counters ?? null }, 'strategy-runner stopped');
    this.#done(code);
    return code;
  }

  /** Counts a Kafka client close as in flight until it settles (whatever the deadline). */
  #trackClose(p: Promise<void> | undefined): Promise<void> | undefined {
    if (p === undefined) return undefined;
    this.#clientClosesInFlight++;
    return p.finally(() => this.#clientClosesInFlight--);
  }
}

const DONE = Symbol('done');

async function withDeadline<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}
