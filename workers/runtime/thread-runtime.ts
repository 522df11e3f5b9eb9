import { threadId, type MessagePort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { RunnerError, serializeError } from '../../src/errors.js';
import { createThreadLogger } from '../../src/logging/logger.js';
import type { Tick } from '../../src/domain/tick.js';
import {
  ACTIVE_BATCH,
  ACTIVE_SLOT,
  ACTIVE_TICK,
  ACTIVITY_INTS,
  PROTOCOL_VERSION,
  type BatchResultMessage,
  type ControlResult,
  type DataInput,
  type DataOutput,
  type EmittedSignal,
  type FillMessage,
  type InitReply,
  type InitRequest,
  type StartStrategyRequest,
  type SupervisionEvent,
  type ThreadControl,
  type ThreadHealth,
  type TickBatchMessage,
  type TickError,
  type ParamsUpdate,
  type SnapshotUse,
  type UpdateParamsRequest,
} from '../../src/protocol/messages.js';
import { decodeTickBatch } from '../../src/protocol/tick-batch-codec.js';
import { StrategyRegistry } from '../../src/strategies/registry.js';
import type { StrategyInstance } from '../../src/strategies/sdk/types.js';
import { EventTimeSupervisor } from './event-time-supervisor.js';
import { StrategySlot } from './strategy-slot.js';
import { loadSnapshot, saveSlots, takeParams } from './slot-state.js';
import { SimulatedExecution } from '../../src/backtest/fill-model.js';
import type { Fill } from '../../src/domain/fill.js';
import type { DriverOutput } from '../../src/strategies/engine/strategy-driver.js';

/** A tick batch being processed; it can wait part-way (an async hook of a restart) and go on where it stopped. */
interface BatchJob {
  readonly msg: TickBatchMessage;
  readonly signals: EmittedSignal[];
  /** backtest: simulated fills decided in the batch */
  readonly fills: { i: number; fill: Fill }[];
  readonly errors: TickError[];
  readonly events: SupervisionEvent[];
  /** slot → ticks it missed while down */
  missed: Map<number, number> | undefined;
  /** where to go on: tick, its offset in routes, the slot index within the tick */
  i: number;
  k: number;
  j: number;
  /** set while waiting */
  wait: Promise<void> | undefined;
}

/**
 * Everything a strategy thread does, independent of how the thread was
 * started (piscina here, a plain Worker or a test harness elsewhere).
 */
export class ThreadRuntime implements ThreadControl {
  readonly #data: MessagePort;
  readonly #slots = new Map<number, StrategySlot>();
  #registry: StrategyRegistry | undefined;
  #logger: Logger | undefined;
  #logLevel = 'info';
  #threadIndex = -1;
  #batches = 0;
  #heartbeat: NodeJS.Timeout | undefined;
  #eventTime: EventTimeSupervisor | undefined;
  #backtest: InitRequest['backtest'];
  /** a batch waits for an async hook: data messages queue behind it, in order */
  #waiting = false;
  readonly #backlog: DataInput[] = [];
  #done!: () => void;
  /** resolves when shutdown() has finished: the end of the piscina task */
  readonly finished: Promise<void>;

  readonly #activity: Int32Array;
  /** what the driver appends to, per call (emptied after each) */
  readonly #out: DriverOutput = { signals: [], fills: [], errors: [] };

  constructor(dataPort: MessagePort, activity: Int32Array = new Int32Array(new SharedArrayBuffer(4 * ACTIVITY_INTS))) {
    this.#data = dataPort;
    this.#activity = activity;
    this.finished = new Promise((resolve) => (this.#done = resolve));
    dataPort.on('message', (msg: DataInput) => this.#onData(msg));
  }

  #post(msg: DataOutput): void {
    this.#data.postMessage(msg);
  }

  #log(): Logger {
    if (this.#logger === undefined) {
      this.#logger = createThreadLogger(this.#logLevel, (line) => this.#post({ t: 'log', line }), { thread: this.#threadIndex });
    }
    return this.#logger;
  }

  // ------------------------------------------------------------------ control

  async init(req: InitRequest): Promise<ControlResult<InitReply>> {
    if (req.protocolVersion !== PROTOCOL_VERSION) {
      return fail(new RunnerError('WORKER_PROTOCOL_MISMATCH', `worker speaks protocol ${PROTOCOL_VERSION}, supervisor ${req.protocolVersion}`));
    }
    this.#threadIndex = req.threadIndex;
    this.#logLevel = req.logLevel;
    try {
      this.#registry = await StrategyRegistry.create(req.modules, req.baseDir);
    } catch (err) {
      return fail(err);
    }
    this.#backtest = req.backtest;
    if (req.eventTimeSupervision !== undefined) this.#eventTime = new EventTimeSupervisor(req.eventTimeSupervision, (slot) => this.#instantiate(slot));
    if (req.heartbeatIntervalMs > 0) {
      const beat = (): void => this.#post({ t: 'heartbeat', at: Date.now(), heapUsed: process.memoryUsage().heapUsed });
      this.#heartbeat = setInterval(beat, req.heartbeatIntervalMs);
      beat();
    }
    return { ok: true, value: { protocolVersion: PROTOCOL_VERSION, threadId, types: this.#registry.types() } };
  }

  async startStrategy(req: StartStrategyRequest): Promise<ControlResult<SnapshotUse>> {
    if (this.#registry === undefined) return fail(new RunnerError('SUPERVISOR_STATE', 'startStrategy before init'));
    if (this.#slots.has(req.slot)) return fail(new RunnerError('SUPERVISOR_STATE', `slot ${req.slot} is already in use`));
    const logger = this.#log().child({ strategy_id: req.config.id });
    const slot = new StrategySlot(req.slot, req.config, req.portfolio, logger, this.#backtest === undefined ? undefined : new SimulatedExecution(this.#backtest));
    let snapshot: SnapshotUse = 'none';
    try {
      slot.instance = this.#instantiate(slot);
      await slot.instance.onStart?.(slot.context);
      if (req.snapshot !== undefined) snapshot = this.#load(slot, req.snapshot);
    } catch (err) {
      const e = err instanceof RunnerError
        ? err
        : new RunnerError('STRATEGY_START_FAILED', `strategy '${req.config.id}' failed to start: ${(err as Error)?.message ?? String(err)}`, {
            cause: err,
            details: { strategy_id: req.config.id },
          });
      return fail(e);
    }
    slot.life.to('running');
    this.#slots.set(req.slot, slot);
    logger.info({ strategy_type: req.config.strategy_type, instruments: req.config.instruments.length, snapshot: typeof snapshot === 'string' ? snapshot : 'discarded' }, 'strategy started');
    return { ok: true, value: snapshot };
  }

  /** Continue from a snapshot; when it does not take, the instance is made again from scratch (see loadSnapshot). */
  #load(slot: StrategySlot, json: string): SnapshotUse {
    return loadSnapshot(slot, json, () => {
      slot.instance = this.#instantiate(slot);
      const started = slot.instance.onStart?.(slot.context);
      if (started !== undefined && typeof (started as Promise<void>).then === 'function') void (started as Promise<void>).catch(() => undefined);
    });
  }

  /** The snapshot of every running strategy that has onSave (after the batches before it: the data port keeps order). */
  #save(id: number): void {
    this.#post({ t: 'saved', id, states: saveSlots(this.#slots.values()) });
  }

  /** A new instance for the slot's configuration; throws a RunnerError when there is none. */
  #instantiate(slot: StrategySlot): StrategyInstance {
    const config = slot.config;
    const resolved = this.#registry!.resolve(config);
    const driver = slot.renew(resolved.definition.bars);
    const instance = resolved.definition.create(resolved.params, slot.context);
    if (instance === null || typeof instance !== 'object' || typeof instance.onTick !== 'function') {
      throw new RunnerError('STRATEGY_DEFINITION_INVALID', `strategy '${config.id}': create() of type '${config.strategy_type}' did not return an object with onTick()`, {
        details: { strategy_id: config.id },
      });
    }
    driver.instance = instance;
    return instance;
  }

  async updateParams(req: UpdateParamsRequest): Promise<ControlResult<ParamsUpdate>> {
    const slot = this.#slots.get(req.slot);
    if (slot === undefined || slot.instance === undefined) return fail(new RunnerError('SUPERVISOR_STATE', `updateParams: slot ${req.slot} runs no strategy`));
    try {
      return { ok: true, value: takeParams(slot, this.#registry!, req.config) };
    } catch (err) {
      return fail(err);
    }
  }

  async stopStrategy(slotNo: number): Promise<ControlResult> {
    const slot = this.#slots.get(slotNo);
    if (slot === undefined) return OK;
    slot.life.to('stopping');
    try {
      await slot.instance?.onStop?.(slot.context);
    } catch (err) {
      slot.context.logger.warn({ err }, 'onStop threw');
    }
    slot.life.to('stopped');
    this.#slots.delete(slotNo);
    return OK;
  }

  async health(): Promise<ThreadHealth> {
    const m = process.memoryUsage();
    return {
      threadId,
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      batches: this.#batches,
      slots: [...this.#slots.values()].map((s) => s.health()),
    };
  }

  async shutdown(): Promise<void> {
    for (const slot of [...this.#slots.keys()]) await this.stopStrategy(slot);
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    this.#data.close();
    this.#done();
  }

  // ------------------------------------------------------------------ data

  #onData(msg: DataInput): void {
    if (this.#waiting) {
      this.#backlog.push(msg);
      return;
    }
    this.#handle(msg);
  }

  #handle(msg: DataInput): void {
    switch (msg.t) {
      case 'ticks':
        this.#batches++;
        this.#proceed(newJob({ t: 'ticks', batch: msg.batch, ticks: decodeTickBatch(msg), routes: msg.routes, ...(msg.warmup === true ? { warmup: true } : {}) }));
        return;
      case 'fill':
        this.#applyFill(msg);
        return;
      case 'save':
        this.#save(msg.id);
        return;
      case 'portfolio': {
        const slot = this.#slots.get(msg.slot);
        if (slot !== undefined) slot.portfolio = msg.portfolio;
        return;
      }
    }
  }

  /** Run a batch to its end and post the result, or wait where it stopped (the messages behind it queue). */
  #proceed(job: BatchJob): void {
    if (this.#run(job)) {
      this.#post(resultOf(job));
      return;
    }
    this.#waiting = true;
    void job.wait!.then(() => {
      job.wait = undefined;
      this.#waiting = false;
      this.#proceed(job);
      while (!this.#waiting && this.#backlog.length > 0) this.#handle(this.#backlog.shift()!);
    });
  }

  /**
   * One batch, synchronously (tests and tools). Throws if a restart would have
   * to wait for an async hook: through the data port, the batch waits instead.
   */
  processBatch(msg: TickBatchMessage): BatchResultMessage {
    this.#batches++;
    const job = newJob(msg);
    if (!this.#run(job)) throw new RunnerError('SUPERVISOR_STATE', `batch ${msg.batch} waits for an async hook of a restart; send batches through the data port`);
    return resultOf(job);
  }

  /**
   * The hot loop. Per tick: freeze it (strategies on this thread share the
   * object), then for each target slot call onTick, time it, turn intents into
   * signals. A throwing strategy is counted and reported; the loop goes on.
   * With event-time supervision a strategy down (retired, quarantined) misses
   * the tick or comes back for it; a restart that waits for an async hook
   * returns false, with the place to go on from in the job.
   */
  #run(job: BatchJob): boolean {
    const { signals, errors, events } = job;
    const out = this.#out;
    const { ticks, routes } = job.msg;
    const emit = job.msg.warmup !== true;
    const activity = this.#activity;
    const et = emit ? this.#eventTime : undefined;
    let k = job.k;
    Atomics.store(activity, ACTIVE_BATCH, job.msg.batch);
    for (let i = job.i; i < ticks.length; i++) {
      const tick = Object.freeze(ticks[i]!) as Tick;
      Atomics.store(activity, ACTIVE_TICK, i);
      const n = routes[k]!;
      for (let j = job.j; j < n; j++) {
        const slot = this.#slots.get(routes[k + 1 + j]!);
        if (slot === undefined) continue;
        if (slot.state !== 'running') {
          if (slot.state !== 'down' || et === undefined) continue;
          const back = et.comeBack(slot, tick, i, events);
          if (back === false) {
            const m = (job.missed ??= new Map());
            m.set(slot.slot, (m.get(slot.slot) ?? 0) + 1);
            continue;
          }
          if (back !== true) {
            job.i = i;
            job.k = k;
            job.j = j;
            job.wait = back;
            Atomics.store(activity, ACTIVE_SLOT, 0);
            return false;
          }
        }
        slot.ticksIn++;
        // One store per call: lets the supervisor name the strategy if this call never returns.
        Atomics.store(activity, ACTIVE_SLOT, slot.slot + 1);
        const t0 = performance.now();
        const ok = slot.driver.tick(tick, emit, out);
        const failed = out.errors.length > 0;
        if (failed) {
          slot.errors += out.errors.length;
          slot.consecutiveErrors++;
          for (const err of out.errors) {
            slot.lastError = serializeError(err);
            errors.push({ i, slot: slot.slot, error: slot.lastError, consecutive: slot.consecutiveErrors });
          }
          out.errors.length = 0;
        } else if (ok) {
          slot.consecutiveErrors = 0;
        }
        if (out.signals.length > 0) {
          for (const s of out.signals) signals.push({ i, signal: s });
          slot.signalsOut += out.signals.length;
          out.signals.length = 0;
        }
        if (out.fills.length > 0) {
          for (const f of out.fills) job.fills.push({ i, fill: f });
          out.fills.length = 0;
        }
        slot.latency.record((performance.now() - t0) * 1000);
        if (failed && et !== undefined && slot.consecutiveErrors >= et.maxConsecutiveErrors) {
          et.retire(slot, tick, i, `${slot.consecutiveErrors} consecutive errors, last: [${slot.lastError!.code}] ${slot.lastError!.message}`, events);
        }
      }
      job.j = 0;
      k += n + 1;
      et?.record(tick);
    }
    Atomics.store(activity, ACTIVE_SLOT, 0);
    return true;
  }

  #applyFill(msg: FillMessage): void {
    const slot = this.#slots.get(msg.slot);
    if (slot === undefined) {
      this.#post({ t: 'fill-result', slot: msg.slot, fillId: msg.fill.fill_id });
      return;
    }
    slot.fillsApplied++;
    const out = this.#out;
    slot.driver.deliverFill(msg.fill, out, msg.portfolio);
    const err = out.errors.shift();
    out.errors.length = 0;
    if (err === undefined) {
      this.#post({ t: 'fill-result', slot: msg.slot, fillId: msg.fill.fill_id });
      return;
    }
    slot.errors++;
    slot.lastError = serializeError(err);
    this.#post({ t: 'fill-result', slot: msg.slot, fillId: msg.fill.fill_id, error: slot.lastError });
  }
}

const OK: ControlResult = { ok: true, value: undefined };

function newJob(msg: TickBatchMessage): BatchJob {
  return { msg, signals: [], fills: [], errors: [], events: [], missed: undefined, i: 0, k: 0, j: 0, wait: undefined };
}

function resultOf(job: BatchJob): BatchResultMessage {
  const r: BatchResultMessage = { t: 'result', batch: job.msg.batch, signals: job.signals, errors: job.errors, ...(job.fills.length > 0 ? { fills: job.fills } : {}) };
  if (job.events.length === 0 && job.missed === undefined) return r;
  return { ...r, ...(job.events.length > 0 ? { supervision: job.events } : {}), ...(job.missed === undefined ? {} : { missed: [...job.missed] }) };
}

function fail(err: unknown): { ok: false; error: ReturnType<typeof serializeError> } {
  return { ok: false, error: serializeError(err) };
}
