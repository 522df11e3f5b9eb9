/**
 * The ports between the pipeline and the outside world: what a source of
 * ticks, fills or strategy configurations and a sink of signals look like.
 * Implemented by the file adapters (transport/files), the in-memory ones
 * (transport/memory), PostgresConfigSource and KafkaSignalSink. The live
 * Kafka input (KafkaInput) does not implement TickSource/FillSource: it
 * yields `InputEvent`s (ticks and fills already interleaved, with the
 * offsets to commit in `onDelivered`) straight to the pipeline.
 */
import type { ParsedConfigs } from './config/strategy-config.js';
import type { Fill } from './domain/fill.js';
import type { Signal } from './domain/signal.js';
import type { Tick } from './domain/tick.js';

/** Ticks that arrived together (a file chunk, a Kafka fetch), already decoded and validated. */
export interface TickBatch {
  readonly kind: 'ticks';
  readonly ticks: Tick[];
  /**
   * Called once every signal produced from these ticks (and all earlier ones)
   * has been accepted by the sink. A Kafka source commits its offsets here.
   */
  readonly onDelivered?: () => void;
  /**
   * Ticks re-read to rebuild the strategies' state after a restart (they were
   * processed before the last commit): strategies see them, their signals are
   * not emitted again.
   */
  readonly warmup?: boolean;
  /**
   * Only the strategies it accepts get these ticks (a sharded input: the
   * shards the ticks are for); undefined: every routed strategy.
   */
  readonly only?: StrategyFilter;
  /**
   * Re-read behind the live stream for shards catching up: not kept in the
   * supervisor's re-warm history, which holds the latest ticks.
   */
  readonly catchUp?: boolean;
}

/**
 * A subset of the strategies, named by `key`: the router builds its route
 * table for the subset once per key (and again after each change of the
 * strategies), so a filtered round costs what an unfiltered one does.
 */
export interface StrategyFilter {
  readonly key: string;
  accepts(strategyId: string): boolean;
}

export interface FillEvent {
  readonly kind: 'fill';
  readonly fill: Fill;
}

/** What the pipeline consumes: ticks and fills, in the order they should take effect. */
export type InputEvent = TickBatch | FillEvent;

/** An input record that failed to decode: reported with where it was, never fatal. */
export interface RejectedInput {
  readonly source: string;
  /** `file:line` or `topic[partition]@offset` */
  readonly where: string;
  readonly reason: string;
  readonly kind: 'tick' | 'fill';
}

export type RejectHandler = (r: RejectedInput) => void;

export interface TickSource {
  readonly name: string;
  batches(): AsyncIterable<TickBatch>;
  close(): Promise<void>;
}

export interface FillSource {
  readonly name: string;
  fills(): AsyncIterable<Fill[]>;
  close(): Promise<void>;
}

export interface SignalSink {
  readonly name: string;
  /**
   * Resolves when the sink has accepted the signals (written, or acknowledged
   * by the broker). `round`: the pipeline's number of the dispatch round they
   * came from (none for late signals of conflated ticks).
   */
  write(signals: readonly Signal[], round?: number): Promise<void>;
  /**
   * The pipeline settled every round up to `round`: their signals were all
   * accepted and the input's positions moved past their ticks (a
   * transactional sink commits rounds only once settled).
   */
  roundSettled?(round: number): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface ConfigSource {
  readonly name: string;
  /** Every configuration, valid ones parsed and invalid ones reported. */
  load(): Promise<ParsedConfigs>;
  close(): Promise<void>;
}

/** What a configuration watcher's reloads did, kept by each watcher (a copy when read). */
export interface ReloadStats<R extends string> {
  /** reloads that ended with the configurations applied */
  reloads: number;
  /** reloads that failed (the source could not be read, or applying threw) */
  failures: number;
  /** ISO time of the last successful reload */
  lastReloadAt: string | null;
  lastReloadReason: R | null;
  /** the last failure, kept after later successes; null before any */
  lastError: { code: string; message: string; at: string; reason: R } | null;
}

/**
 * Follows a configuration source while the service runs
 * (ConfigChangeListener for PostgreSQL, FileConfigWatcher for a file): its
 * lifecycle state, its reload counters, a stop.
 */
export interface ConfigWatcher<S extends string = string, R extends string = string> {
  readonly state: S;
  /** Date.now() when the current state was entered */
  readonly stateSince: number;
  readonly stats: ReloadStats<R>;
  stop(): Promise<void>;
}
