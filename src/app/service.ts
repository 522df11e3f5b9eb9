import type { Logger } from 'pino';
import type { ServiceConfig } from '../config/service-config.js';
import { holdProcess } from '../async/hold-process.js';
import { exitCodeFor } from '../errors.js';
import { Lifecycle, type TransitionTable } from '../lifecycle/lifecycle.js';
import { LiveAssembly } from './live-assembly.js';
import type { Runtime } from './runtime.js';
import type { ConfigWatchStatus } from './strategy-config-loading.js';

/**
 * Lifecycle of the live service:
 *   created → starting → running → stopping → stopped
 *   created → stopping (stopped before it started)
 *   starting → failed (a fatal start: the process should exit non-zero)
 *   starting → stopping (a stop interrupts the start)
 *   stopping → failed (a fatal error while running: the pipeline failed)
 */
export type ServiceState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

const TRANSITIONS: TransitionTable<ServiceState> = {
  created: ['starting', 'stopping'],
  starting: ['running', 'stopping', 'failed'],
  running: ['stopping'],
  stopping: ['stopped', 'failed'],
  stopped: [],
  failed: [],
};

/**
 * `strategy-runner run`: strategy configurations from PostgreSQL (or a file),
 * ticks and fills from Kafka, signals to Kafka, offsets committed only after
 * the signals they produced are acknowledged. The parts and their start
 * order are LiveAssembly's; this class holds the lifecycle and the shutdown.
 */
export class Service {
  readonly #c: ServiceConfig;
  readonly #log: Logger;
  readonly lifecycle = new Lifecycle<ServiceState>('Service', 'created', TRANSITIONS);
  /** aborted when a stop is requested: the start ends at its next step */
  readonly #stopRequest = new AbortController();
  #assembly: LiveAssembly | undefined;
  #stopping: Promise<number> | undefined;
  #fatal: unknown;
  /**
   * The timing primitives' timers do not keep the process alive; a start
   * waiting for a database, or a stop waiting for a deadline, must.
   */
  #release: (() => void) | undefined;
  #done!: (code: number) => void;
  /** Resolves with the exit code once the service has stopped, on request or after a fatal error. */
  readonly finished: Promise<number> = new Promise((resolve) => (this.#done = resolve));

  constructor(config: ServiceConfig, logger: Logger) {
    this.#c = config;
    this.#log = logger;
  }

  get state(): ServiceState {
    return this.lifecycle.state;
  }

  /**
   * True while a Kafka client's close is running (also after the stop gave up
   * waiting for it): that close holds a libuv thread which process.exit()
   * joins, so the process would never end. The CLI exits with SIGKILL then.
   */
  get clientCloseInFlight(): boolean {
    return this.#assembly?.clientCloseInFlight ?? false;
  }

  get statusPort(): number | undefined {
    return this.#assembly?.runtime?.statusPort;
  }

  get runtime(): Runtime | undefined {
    return this.#assembly?.runtime;
  }

  /** The configuration watcher's state (also in /status as `config_watch`); null when nothing watches. */
  get configWatch(): ConfigWatchStatus | null {
    return this.#assembly?.configWatch() ?? null;
  }

  get #stopRequested(): boolean {
    return this.#stopRequest.signal.aborted;
  }

  /**
   * Start everything, in order. A stop() requested meanwhile ends the start
   * at the next step (start() then resolves; `finished` gives exit code 0).
   */
  async start(): Promise<void> {
    this.lifecycle.require('start', 'created');
    this.lifecycle.to('starting');
    this.#holdProcess();
    try {
      this.#assembly = new LiveAssembly({
        config: this.#c,
        logger: this.#log,
        signal: this.#stopRequest.signal,
        statusExtra: () => ({ service_state: this.state }),
        notReadyReasons: () => this.#notReadyReasons(),
        live: () => this.lifecycle.is('running', 'starting'),
        onPipelineFailure: (err) => {
          this.#log.fatal({ err }, 'pipeline failed; stopping without committing past the failure');
          this.#fatal ??= err;
          void this.stop();
        },
      });
      await this.#assembly.start();
      if (this.#stopRequested) return;
      this.lifecycle.to('running');
      this.#log.info({ status_port: this.statusPort ?? null }, 'strategy-runner running');
    } catch (err) {
      if (this.#stopRequested) return; // the stop interrupted the start: not a failure
      this.#fatal = err;
      this.lifecycle.to('failed');
      await this.stop();
      throw err;
    } finally {
      if (!this.#stopRequested) this.#releaseProcess();
    }
  }

  /** The service's own reason first: what the start waits for explains the rest. */
  #notReadyReasons(): string[] {
    const waitingFor = this.#assembly?.waitingFor;
    if (this.state === 'starting' && waitingFor !== undefined) return [waitingFor];
    if (this.state !== 'running') return [`service ${this.state}`];
    return [];
  }

  /** Re-read the strategy configurations now (SIGHUP). */
  reload(): void {
    const loading = this.#assembly?.loading;
    if (loading !== undefined) loading.reload();
    else this.#log.info('reload requested, but configuration watching is off (strategies.watch)');
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
    this.#stopRequest.abort();
    this.#holdProcess();
    if (!this.lifecycle.is('failed')) this.lifecycle.to('stopping');
    const { timedOut } = (await this.#assembly?.stop()) ?? { timedOut: false };
    // A configuration error gives 78 (EX_CONFIG): systemd and pm2 do not restart it.
    const code = this.#fatal !== undefined ? exitCodeFor(this.#fatal) : timedOut ? 1 : 0;
    if (!this.lifecycle.is('failed')) this.lifecycle.to(this.#fatal === undefined ? 'stopped' : 'failed');
    this.#log.info({ exit_code: code, timed_out: timedOut, counters: this.#assembly?.pipeline?.counters ?? null }, 'strategy-runner stopped');
    this.#releaseProcess();
    this.#done(code);
    return code;
  }

  #holdProcess(): void {
    this.#release ??= holdProcess();
  }

  #releaseProcess(): void {
    this.#release?.();
    this.#release = undefined;
  }
}
