/**
 * The protocol between the supervisor (main thread) and a strategy thread.
 *
 * Two MessagePorts per thread:
 *  - the data port carries the hot path, batched (one message per thread per
 *    dispatch round, never one per tick); tick batches travel as typed
 *    arrays (tick-batch-codec.ts), the rest as structured clones;
 *  - the control port carries rare calls (init, start, stop, health,
 *    shutdown) through comlink, whose per-call promise is fine there.
 * Messages on one port keep their order, so a fill sent after a tick batch is
 * applied after that batch. Errors cross as data (SerializedError) and are
 * rebuilt on the other side.
 */
import type { SerializedError } from '../errors.js';
import type { Fill } from '../domain/fill.js';
import type { PortfolioView } from '../domain/portfolio.js';
import type { Signal } from '../domain/signal.js';
import type { Tick } from '../domain/tick.js';
import type { StrategyConfig } from '../config/strategy-config.js';
import type { EncodedTickBatch } from './tick-batch-codec.js';
import type { FillModelOptions } from '../backtest/fill-model.js';

/** Bumped on any incompatible change; checked by init(). */
export const PROTOCOL_VERSION = 4;

// ---------------------------------------------------------------- data port: main → thread

/**
 * A batch of ticks for one thread, as the thread's loop sees it. `routes` is
 * flat: for tick i, a count n followed by the n local slot numbers that want it.
 */
export interface TickBatchMessage {
  readonly t: 'ticks';
  readonly batch: number;
  readonly ticks: readonly Tick[];
  readonly routes: ArrayLike<number>;
  /** re-warming a restarted strategy: run onTick, build no signals */
  readonly warmup?: boolean;
}

/**
 * The same batch on the wire: the ticks as columns (see tick-batch-codec.ts).
 */
export interface TickBatchWire extends EncodedTickBatch {
  readonly t: 'ticks';
  readonly batch: number;
  readonly warmup?: boolean;
}

/** A fill for one strategy, with the portfolio the supervisor computed after applying it. */
export interface FillMessage {
  readonly t: 'fill';
  readonly slot: number;
  readonly fill: Fill;
  readonly portfolio: PortfolioView;
}

/** The strategy's current portfolio, after a restart (fills may have arrived while it was starting). */
export interface PortfolioMessage {
  readonly t: 'portfolio';
  readonly slot: number;
  readonly portfolio: PortfolioView;
}

/** Take a snapshot of every running strategy that has onSave, after the batches sent before it. */
export interface SaveMessage {
  readonly t: 'save';
  readonly id: number;
}

export type DataInput = TickBatchWire | FillMessage | PortfolioMessage | SaveMessage;

// ---------------------------------------------------------------- data port: thread → main

/** A signal with its place in the batch, so the supervisor can order signals across threads. */
export interface EmittedSignal {
  /** index of the tick within the batch */
  readonly i: number;
  readonly signal: Signal;
}

export interface TickError {
  readonly i: number;
  readonly slot: number;
  readonly error: SerializedError;
  /** the strategy's errors in a row, this one included (the restart policy reads it) */
  readonly consecutive: number;
}

export interface BatchResultMessage {
  readonly t: 'result';
  readonly batch: number;
  /** in tick order, then slot order within a tick, then emission order */
  readonly signals: readonly EmittedSignal[];
  readonly errors: readonly TickError[];
  /** event-time supervision only: what the thread decided for its strategies in this batch, in order */
  readonly supervision?: readonly SupervisionEvent[];
  /** event-time supervision only: [slot, ticks] it did not run because the strategy was down (restarting or quarantined) */
  readonly missed?: readonly (readonly [number, number])[];
  /** backtest only: the simulated fills decided in this batch, at tick `i`, in order (the thread has applied them to the strategy's portfolio) */
  readonly fills?: readonly { readonly i: number; readonly fill: Fill }[];
}

/**
 * A supervision decision a thread took itself (event-time supervision, see
 * InitRequest.eventTimeSupervision), at tick `i` of the batch:
 *  - `retired`: the strategy failed maxConsecutiveErrors ticks in a row (or
 *    its restart failed); it sees no tick until the first one at or after
 *    `resumeAt` (event time, ms), and then restarts;
 *  - `restarted`: a new instance took over at this tick, re-warmed first;
 *  - `quarantined`: more restarts than the restart intensity allows within
 *    its window of event time; it stays down.
 */
export interface SupervisionEvent {
  readonly slot: number;
  readonly i: number;
  readonly kind: 'retired' | 'restarted' | 'quarantined';
  readonly reason: string;
  /** retired: the event time it comes back at */
  readonly resumeAt?: number;
  /** retired: the back-off, ms of event time */
  readonly delayMs?: number;
  /** restart attempts of the strategy so far */
  readonly restarts: number;
}

export interface FillResultMessage {
  readonly t: 'fill-result';
  readonly slot: number;
  readonly fillId: string;
  readonly error?: SerializedError;
}

/** A pino log line written inside the thread, relayed to the main thread's destination. */
export interface LogMessage {
  readonly t: 'log';
  readonly line: string;
}

export interface HeartbeatMessage {
  readonly t: 'heartbeat';
  /** Date.now() in the thread */
  readonly at: number;
  readonly heapUsed: number;
}

/** One strategy's snapshot, or why it could not be taken. */
export interface SavedState {
  readonly slot: number;
  readonly strategyId: string;
  /** `{"strategy": onSave(), "runtime": DriverState}` as JSON text */
  readonly state?: string;
  /** per instrument [timestamp, ticks seen with it] */
  readonly instruments?: Record<string, [number, number]>;
  readonly error?: SerializedError;
}

export interface SavedMessage {
  readonly t: 'saved';
  readonly id: number;
  readonly states: readonly SavedState[];
}

export type DataOutput = BatchResultMessage | FillResultMessage | LogMessage | HeartbeatMessage | SavedMessage;

// ---------------------------------------------------------------- control port (comlink)

export interface InitRequest {
  readonly protocolVersion: number;
  readonly threadIndex: number;
  /** user strategy modules, as written in the service configuration */
  readonly modules: readonly string[];
  /** the directory relative module paths are resolved against */
  readonly baseDir: string;
  readonly logLevel: string;
  readonly heartbeatIntervalMs: number;
  /**
   * Set by replay: the thread supervises its strategies itself, by event
   * time, so that the same input gives the same output whatever the timing,
   * pool and batch size. Without it the supervisor decides (wall clock).
   */
  readonly eventTimeSupervision?: EventTimeSupervision;
  /**
   * Set by backtest: each strategy's signals become orders on a simulated
   * market inside its thread, and their fills reach it by event time.
   */
  readonly backtest?: FillModelOptions;
}

export interface EventTimeSupervision {
  readonly maxConsecutiveErrors: number;
  readonly restart: { readonly initialDelayMs: number; readonly maxDelayMs: number; readonly intensity: number; readonly windowMs: number };
  /** recent ticks kept per instrument, to re-warm a restarted strategy */
  readonly rewarmTicks: number;
  /** longest wait for an async onStop/onStart during a restart */
  readonly hookTimeoutMs: number;
}

export interface InitReply {
  readonly protocolVersion: number;
  readonly threadId: number;
  readonly types: readonly string[];
}

export interface StartStrategyRequest {
  readonly slot: number;
  readonly config: StrategyConfig;
  readonly portfolio: PortfolioView;
  /** a snapshot to continue from (SavedState.state), checked by the supervisor against the parameters and version */
  readonly snapshot?: string;
}

/** What startStrategy did with a snapshot it was given. */
export type SnapshotUse = 'none' | 'loaded' | { readonly discarded: string };

export interface UpdateParamsRequest {
  readonly slot: number;
  /** the whole new configuration (only its parameters differ) */
  readonly config: StrategyConfig;
}

/** 'applied': onParams took them; 'unsupported': the strategy has no onParams (restart it instead). */
export type ParamsUpdate = 'applied' | 'unsupported';

export type ControlResult<T = undefined> = { ok: true; value: T } | { ok: false; error: SerializedError };

/** Upper bounds (µs) of the handler latency histogram buckets sent with each health report. */
export const LATENCY_BUCKETS_US = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 50_000, 100_000, 1_000_000] as const;

export interface LatencySummary {
  readonly count: number;
  /** total of all records, µs */
  readonly sum: number;
  /** cumulative counts at LATENCY_BUCKETS_US */
  readonly buckets: readonly number[];
  /** microseconds */
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/** `down`: retired by event-time supervision (waiting to restart, or quarantined) */
export type SlotState = 'starting' | 'running' | 'down' | 'stopping' | 'stopped' | 'failed';

export interface SlotHealth {
  readonly slot: number;
  readonly strategyId: string;
  readonly strategyType: string;
  readonly state: SlotState;
  readonly ticksIn: number;
  readonly signalsOut: number;
  readonly errors: number;
  readonly consecutiveErrors: number;
  readonly lastError?: SerializedError;
  readonly fillsApplied: number;
  readonly latencyUs: LatencySummary;
}

export interface ThreadHealth {
  readonly threadId: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly batches: number;
  readonly slots: readonly SlotHealth[];
}

/** What the thread exposes over comlink. Every method resolves; failures come back as ControlResult errors. */
export interface ThreadControl {
  init(req: InitRequest): Promise<ControlResult<InitReply>>;
  startStrategy(req: StartStrategyRequest): Promise<ControlResult<SnapshotUse>>;
  /** New parameters, taken live by the strategy's onParams; 'unsupported' when it has none. */
  updateParams(req: UpdateParamsRequest): Promise<ControlResult<ParamsUpdate>>;
  stopStrategy(slot: number): Promise<ControlResult>;
  health(): Promise<ThreadHealth>;
  /** Stop every strategy (onStop) and end the thread's task. */
  shutdown(): Promise<void>;
}

/**
 * The piscina task that hosts a thread's strategies for its whole life.
 * `protocolVersion` and the task's result (ThreadTaskResult) are the
 * handshake: they keep their shape in every protocol version, so that a
 * thread of another build can still say which version it speaks.
 */
export interface ThreadTask {
  readonly protocolVersion: number;
  readonly dataPort: MessagePort;
  readonly controlPort: MessagePort;
  /**
   * Shared with the supervisor (a SharedArrayBuffer of ACTIVITY_INTS int32):
   * [ACTIVE_SLOT] the slot whose onTick is running, plus one (0 = none);
   * [ACTIVE_BATCH] and [ACTIVE_TICK] the batch and tick index it is on. The
   * supervisor reads them without a message when the thread hangs or dies, to
   * know which strategy did it, on which tick.
   */
  readonly activity: Int32Array;
}

/**
 * What the task resolves with: ok after a shutdown, or an error the thread
 * reports as data (WORKER_PROTOCOL_MISMATCH when `protocolVersion` is not
 * its own). A thrown error would reach the supervisor as a bare Error,
 * without its code.
 */
export type ThreadTaskResult = { readonly ok: true } | { readonly ok: false; readonly error: SerializedError };

export const ACTIVE_SLOT = 0;
export const ACTIVE_BATCH = 1;
export const ACTIVE_TICK = 2;
export const ACTIVITY_INTS = 3;

type MessagePort = import('node:worker_threads').MessagePort;
