import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { Logger } from 'pino';
import type { StrategyConfig } from '../config/strategy-config.js';
import type { FillModelOptions } from '../backtest/fill-model.js';
import type { Fill } from '../domain/fill.js';
import type { PortfolioView } from '../domain/portfolio.js';
import type { Tick } from '../domain/tick.js';
import { RunnerError, deserializeError, type SerializedError } from '../errors.js';
import { Lifecycle } from '../lifecycle/lifecycle.js';
import { encodeTickBatch, type EncodedTickBatch } from '../protocol/tick-batch-codec.js';
import { sleep } from '../timing/sleep.js';
import {
  PROTOCOL_VERSION,
  type BatchResultMessage,
  type ControlResult,
  type ParamsUpdate,
  type SaveMessage,
  type SavedState,
  type SnapshotUse,
  type DataInput,
  type DataOutput,
  type EventTimeSupervision,
  type InitReply,
  type ThreadControl,
  type ThreadHealth,
  type ThreadTask,
  type ThreadTaskResult,
} from '../protocol/messages.js';
import { PendingBatches } from './pending-batches.js';
import { HOST_TRANSITIONS, type HostState } from './states.js';
import { ThreadActivity } from './thread-activity.js';
import { ThreadControlClient } from './thread-control.js';

export type { HostState } from './states.js';

export interface WorkerHostOptions {
  index: number;
  workerFile: string;
  modules: readonly string[];
  baseDir: string;
  logLevel: string;
  /** heap limit of the thread in MB (its old generation); undefined = Node's default */
  maxHeapMb?: number;
  heartbeatIntervalMs: number;
  /** deadline for control calls (init, start, stop, health) */
  controlTimeoutMs: number;
  logger: Logger;
  /** where log lines written inside the thread go */
  writeLog: (line: string) => void;
  /** called when the thread ends without being asked to */
  onFailure?: (host: WorkerHost, error: Error) => void;
  /** the thread supervises its strategies itself, by event time (replay) */
  eventTimeSupervision?: EventTimeSupervision;
  /** backtest: the fill model the thread simulates */
  backtest?: FillModelOptions;
  /** called for every fill the thread reports an onFill error for */
  onFillError?: (slot: number, fillId: string, error: SerializedError) => void;
}

/**
 * The supervisor's handle to one strategy thread. piscina owns the thread
 * (spawn, resource limits, replacement, termination); the thread runs one
 * long task that hosts its strategies until shutdown. Ticks go over a raw
 * MessagePort in batches; control calls over comlink on a second port.
 * Every promise this class hands out settles: when the thread dies, pending
 * batches reject with WORKER_EXITED and control calls have a deadline.
 */
export class WorkerHost {
  readonly index: number;
  readonly #opts: WorkerHostOptions;
  readonly #log: Logger;
  #pool: Piscina | undefined;
  #data: MessagePort | undefined;
  #control: ThreadControlClient | undefined;
  #task: Promise<ThreadTaskResult | undefined> | undefined;
  readonly #life: Lifecycle<HostState>;
  #failure: Error | undefined;
  /** snapshot requests awaiting their answer */
  readonly #saves = new Map<number, { resolve: (s: readonly SavedState[]) => void; reject: (e: Error) => void }>();
  #saveSeq = 0;
  /** when the current run of batches without a break began (see behindMs); undefined when caught up */
  #busySince: number | undefined;
  #nextBatch = 1;
  readonly #pending = new PendingBatches();
  #stopping: Promise<void> | undefined;
  readonly #activity = new ThreadActivity();
  #lastActive: { slot: number; tick: Tick | undefined } | undefined;
  threadId = -1;
  lastHeartbeatAt = 0;
  heapUsed = 0;
  startedAt = 0;

  constructor(opts: WorkerHostOptions) {
    this.index = opts.index;
    this.#opts = opts;
    this.#log = opts.logger.child({ thread: opts.index });
    this.#life = new Lifecycle<HostState>(`thread ${opts.index}`, 'created', HOST_TRANSITIONS);
  }

  get state(): HostState {
    return this.#life.state;
  }

  get failure(): Error | undefined {
    return this.#failure;
  }

  /** The slot whose onTick is running right now, or undefined (read from shared memory: works on a hung thread). */
  activeSlot(): number | undefined {
    return this.#activity.slot();
  }

  /**
   * What was running when the thread failed: the slot and the tick it was
   * on (the poison tick a restarted strategy must not be re-warmed with).
   */
  get lastActive(): { slot: number; tick: Tick | undefined } | undefined {
    return this.#lastActive;
  }

  /** ms since the thread last proved it is alive (heartbeat or batch answer). */
  silentForMs(now = Date.now()): number {
    return now - this.lastHeartbeatAt;
  }

  /**
   * End the thread now (a hung or runaway strategy): pending batches reject
   * with `reason`, the host becomes failed. No onStop runs.
   */
  async terminate(reason: Error): Promise<void> {
    this.#fail(reason);
    try {
      await this.#pool?.destroy();
    } catch (err) {
      this.#log.warn({ err }, 'piscina destroy failed');
    }
    this.#control?.close();
    this.#data?.close();
  }

  /** Batches sent and not yet answered. */
  get queueDepth(): number {
    return this.#pending.size;
  }

  /**
   * How far behind the thread is: how long it has had unfinished batches
   * without a break (0 once it has finished all it was sent). A thread that
   * keeps up on average drains its queue again and again; one that is
   * steadily too slow never does, however small each batch, so this grows
   * without bound for it while the age of its oldest batch would not (at
   * most maxQueuedBatches wait). "Finished" is read from the shared activity
   * words, not from the answers: when the main thread itself was held up (a
   * busy machine, a GC pause), the answers wait in the port and only the
   * thread's own progress says it kept up.
   */
  behindMs(now: number): number {
    if (this.#pending.size === 0 || this.#finishedAll()) {
      this.#busySince = undefined;
      return 0;
    }
    return Math.max(0, now - (this.#busySince ?? now));
  }

  /** The thread has finished every batch sent to it (per its activity words). */
  #finishedAll(): boolean {
    return this.#activity.finishedUpTo(this.#nextBatch - 1);
  }

  async start(): Promise<void> {
    this.#life.require('start', 'created');
    this.#life.to('starting');
    this.#pool = new Piscina({
      filename: this.#opts.workerFile,
      minThreads: 1,
      maxThreads: 1,
      concurrentTasksPerWorker: 1,
      idleTimeout: Number.MAX_SAFE_INTEGER,
      // The task lives as long as the thread and waits on its ports: the
      // thread's event loop must run, so no Atomics.wait parking.
      atomics: 'disabled',
      ...(this.#opts.maxHeapMb === undefined ? {} : { resourceLimits: { maxOldGenerationSizeMb: this.#opts.maxHeapMb } }),
      name: 'default',
    });
    this.#pool.on('error', (err: Error) => this.#onThreadEnd(err));

    const data = new MessageChannel();
    const control = new MessageChannel();
    this.#data = data.port1;
    this.#data.on('message', (m: DataOutput) => this.#onData(m));
    this.#control = new ThreadControlClient(this.index, control.port1);

    const task: ThreadTask = { protocolVersion: PROTOCOL_VERSION, dataPort: data.port2, controlPort: control.port2, activity: this.#activity.words };
    this.#task = this.#pool.run(task, { transferList: [data.port2, control.port2] as never });
    this.#task.then(
      (result) => this.#onThreadEnd(undefined, result?.ok === false ? result.error : undefined),
      (err: unknown) => this.#onThreadEnd(err instanceof Error ? err : new Error(String(err))),
    );

    let init: ControlResult<InitReply>;
    try {
      init = await this.#call('init', (c) =>
        c.init({
          protocolVersion: PROTOCOL_VERSION,
          threadIndex: this.index,
          modules: this.#opts.modules,
          baseDir: this.#opts.baseDir,
          logLevel: this.#opts.logLevel,
          heartbeatIntervalMs: this.#opts.heartbeatIntervalMs,
          ...(this.#opts.eventTimeSupervision === undefined ? {} : { eventTimeSupervision: this.#opts.eventTimeSupervision }),
          ...(this.#opts.backtest === undefined ? {} : { backtest: this.#opts.backtest }),
        }),
      );
      if (!init.ok) throw deserializeError(init.error);
    } catch (err) {
      // A thread that cannot start is failed and gone; the caller decides about another one.
      const e = err instanceof Error ? err : new Error(String(err));
      this.#fail(e);
      await this.#pool?.destroy().catch(() => undefined);
      throw e;
    }
    // stop() while it was starting: the thread is being ended, it does not become ready.
    if (!this.#life.is('starting')) throw this.#failure ?? new RunnerError('WORKER_EXITED', `thread ${this.index} was stopped while starting`);
    this.threadId = init.value.threadId;
    this.startedAt = Date.now();
    this.lastHeartbeatAt = this.startedAt;
    this.#life.to('ready');
  }

  async startStrategy(slot: number, config: StrategyConfig, portfolio: PortfolioView, snapshot?: string): Promise<ControlResult<SnapshotUse>> {
    this.#life.require('startStrategy', 'ready');
    return this.#call('startStrategy', (c) => c.startStrategy({ slot, config, portfolio, ...(snapshot === undefined ? {} : { snapshot }) }));
  }

  /**
   * Snapshots of the thread's strategies that have onSave, taken after every
   * batch sent before this call (the data port keeps order). Rejects when the
   * thread fails first.
   */
  save(): Promise<readonly SavedState[]> {
    if (!this.#life.is('ready')) return Promise.resolve([]);
    const id = ++this.#saveSeq;
    return new Promise((resolve, reject) => {
      this.#saves.set(id, { resolve, reject });
      this.#data!.postMessage({ t: 'save', id } satisfies SaveMessage);
    });
  }

  /**
   * New parameters for a running strategy, taken live by its onParams (after
   * the batches already sent): 'applied', or 'unsupported' when it has no
   * onParams (then the caller restarts it).
   */
  async updateParams(slot: number, config: StrategyConfig): Promise<ControlResult<ParamsUpdate>> {
    this.#life.require('updateParams', 'ready');
    await this.drained();
    return this.#call('updateParams', (c) => c.updateParams({ slot, config }));
  }

  async stopStrategy(slot: number): Promise<ControlResult> {
    if (!this.#life.is('ready')) return { ok: true, value: undefined };
    await this.drained();
    return this.#call('stopStrategy', (c) => c.stopStrategy(slot));
  }

  /** Resolves when every batch sent so far has been answered (or the thread failed). */
  drained(): Promise<void> {
    return this.#pending.drained();
  }

  /** Encode and send one batch (see sendEncoded). */
  sendBatch(ticks: readonly Tick[], routes: readonly number[], warmup = false): Promise<BatchResultMessage> {
    return this.sendEncoded(encodeTickBatch(ticks, routes), warmup);
  }

  /**
   * Hot path: one postMessage per thread per round, the ticks encoded as
   * columns (cloned by postMessage: the caller may keep `enc`, and nothing
   * here keeps the tick objects); a Date.now() only when the batch starts a
   * busy period, never per tick.
   */
  sendEncoded(enc: EncodedTickBatch, warmup = false): Promise<BatchResultMessage> {
    // Per batch: a plain comparison (is() takes rest arguments).
    if (this.#life.state !== 'ready') {
      return Promise.reject(this.#failure ?? new RunnerError('WORKER_EXITED', `thread ${this.index} is ${this.#life.state}`));
    }
    // A batch sent to a thread that had finished everything before it starts a new busy period (behindMs).
    if (this.#busySince === undefined || this.#finishedAll()) this.#busySince = Date.now();
    const batch = this.#nextBatch++;
    const msg: DataInput = warmup ? { t: 'ticks', batch, ...enc, warmup } : { t: 'ticks', batch, ...enc };
    const answer = this.#pending.add(batch, enc);
    this.#data!.postMessage(msg);
    return answer;
  }

  sendPortfolio(slot: number, portfolio: PortfolioView): void {
    if (this.#life.state !== 'ready') return;
    const msg: DataInput = { t: 'portfolio', slot, portfolio };
    this.#data!.postMessage(msg);
  }

  sendFill(slot: number, fill: Fill, portfolio: PortfolioView): void {
    if (this.#life.state !== 'ready') return;
    const msg: DataInput = { t: 'fill', slot, fill, portfolio };
    this.#data!.postMessage(msg);
  }

  /** The thread's own report, or undefined when it does not answer within the deadline. */
  async health(timeoutMs = this.#opts.controlTimeoutMs): Promise<ThreadHealth | undefined> {
    if (!this.#life.is('ready')) return undefined;
    try {
      return await this.#call('health', (c) => c.health(), timeoutMs);
    } catch {
      return undefined;
    }
  }

  /**
   * Ask the thread to stop its strategies (onStop) and end; terminate it if it
   * does not finish within the deadline. Memoised: every caller gets the same promise.
   */
  stop(deadlineMs = 5000): Promise<void> {
    this.#stopping ??= this.#stop(deadlineMs);
    return this.#stopping;
  }

  async #stop(deadlineMs: number): Promise<void> {
    const wasReady = this.#life.is('ready');
    if (!this.#life.is('failed')) this.#life.to('stopping');
    if (wasReady) {
      // One deadline for drain + onStop + the end of the thread, not one each.
      const end = Date.now() + deadlineMs;
      const left = (): number => Math.max(1, end - Date.now());
      try {
        await this.drainedWithin(left());
        // The thread's task ends right after shutdown() returns; either is proof enough.
        const ended = this.#task!.then(() => undefined);
        await Promise.race([this.#call('shutdown', (c) => c.shutdown(), left()), ended]);
        await Promise.race([ended, sleep(left())]);
      } catch (err) {
        this.#log.warn({ err }, 'thread did not shut down cleanly; terminating it');
      }
    }
    this.#pending.rejectAll(new RunnerError('WORKER_EXITED', `thread ${this.index} stopped`));
    for (const w of this.#saves.values()) w.reject(new RunnerError('WORKER_EXITED', `thread ${this.index} stopped before answering a snapshot request`));
    this.#saves.clear();
    this.#control?.release();
    this.#control?.close();
    this.#data?.close();
    try {
      await this.#pool?.destroy();
    } catch (err) {
      this.#log.warn({ err }, 'piscina destroy failed');
    }
    if (!this.#life.is('failed')) this.#life.to('stopped');
  }

  private async drainedWithin(ms: number): Promise<void> {
    await Promise.race([this.drained(), sleep(ms)]);
  }

  // ---------------------------------------------------------------- internals

  #call<T>(name: string, fn: (c: ThreadControl) => Promise<T>, timeoutMs = this.#opts.controlTimeoutMs): Promise<T> {
    return this.#control!.call(name, fn, timeoutMs);
  }

  #onData(m: DataOutput): void {
    switch (m.t) {
      case 'result': {
        this.lastHeartbeatAt = Date.now();
        this.#pending.resolve(m);
        return;
      }
      case 'heartbeat':
        this.lastHeartbeatAt = m.at;
        this.heapUsed = m.heapUsed;
        return;
      case 'log':
        this.#opts.writeLog(m.line);
        return;
      case 'fill-result':
        if (m.error !== undefined) this.#opts.onFillError?.(m.slot, m.fillId, m.error);
        return;
      case 'saved': {
        const w = this.#saves.get(m.id);
        this.#saves.delete(m.id);
        w?.resolve(m.states);
        return;
      }
    }
  }

  /** The task ended: thrown (`err`), or resolved with an error the thread reported as data (`reported`, e.g. a protocol mismatch). */
  #onThreadEnd(err: Error | undefined, reported?: SerializedError): void {
    if (this.#life.is('stopping', 'stopped')) return;
    if (reported !== undefined) {
      const e = deserializeError(reported);
      this.#fail(
        e instanceof RunnerError
          ? new RunnerError(e.code, `thread ${this.index}: ${e.message}`, { details: { thread: this.index, ...e.details } })
          : new RunnerError('WORKER_EXITED', `thread ${this.index} ended: ${e.message}`, { cause: e, details: { thread: this.index } }),
      );
      return;
    }
    this.#fail(
      new RunnerError('WORKER_EXITED', `thread ${this.index} ended unexpectedly${err === undefined ? '' : `: ${err.message}`}`, {
        cause: err,
        details: { thread: this.index },
      }),
    );
  }

  #fail(err: Error): void {
    // Failed is final; so is stopped (a stopped thread is gone: nothing left to fail).
    if (!this.#life.can('failed')) return;
    const slot = this.activeSlot();
    if (slot !== undefined) {
      const at = this.#activity.position();
      this.#lastActive = { slot, tick: this.#pending.tickOf(at.batch, at.tick) };
    }
    this.#life.to('failed');
    this.#failure = err;
    this.#control?.fail(err);
    this.#pending.rejectAll(err);
    for (const w of this.#saves.values()) w.reject(err);
    this.#saves.clear();
    this.#log.error({ err }, 'strategy thread failed');
    // Only a thread that was running is reported: a failed start is the caller's to handle.
    if (this.startedAt !== 0) this.#opts.onFailure?.(this, err);
  }
}
