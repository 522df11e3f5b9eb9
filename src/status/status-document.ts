/**
 * The status document (`GET /status`), typed once: the supervisor, the Kafka
 * input and producer, the pipeline and the configuration watcher each build
 * their section with these types; the status server serves it, the metrics
 * read it, the `status` command renders it. docs/operations.md lists every
 * field and what it means. Fields are snake_case (JSON for operators); a
 * value not known (a thread that did not answer) is null, never missing.
 */
import type { PortfolioJSON } from '../domain/portfolio.js';
import type { LatencySummary } from '../protocol/messages.js';

/** The lifecycle states as the document shows them (the transition tables are the components'). */
export type SupervisorStateName = 'created' | 'starting' | 'running' | 'stopping' | 'stopped';
export type StrategyStateName = 'running' | 'restarting' | 'quarantined' | 'stopped';
export type ThreadStateName = 'created' | 'starting' | 'ready' | 'stopping' | 'stopped' | 'failed' | 'unresponsive';

export type PortfolioStatus = PortfolioJSON;

export interface RejectedUpdateStatus {
  code: string;
  error: string;
  fields: readonly string[];
}

/** One strategy (`threads[].strategies[]`); the counts from its thread are null when the thread did not answer. */
export interface StrategyStatus {
  id: string;
  type: string;
  state: StrategyStateName;
  instruments: number;
  ticks_in: number | null;
  signals_out: number | null;
  errors: number | null;
  consecutive_errors: number | null;
  fills_applied: number | null;
  last_error: string | null;
  latency_us: LatencySummary | null;
  restarts: number;
  conflated_ticks: number;
  slow: boolean;
  overload_policy: 'conflate' | 'hold';
  behind_ms: number;
  behind_episodes: number;
  missed_ticks: number;
  rejected_update: RejectedUpdateStatus | null;
  rejected_updates: number;
  last_restart_reason: string | null;
  quarantine_reason: string | null;
  portfolio: PortfolioStatus;
}

export interface ThreadStatus {
  thread: number;
  thread_id: number;
  state: ThreadStateName;
  strategies: StrategyStatus[];
  ticks_in: number | null;
  signals_out: number | null;
  errors: number | null;
  queue_depth: number;
  last_heartbeat_age_ms: number | null;
  heap_used_bytes: number | null;
  /** the thread's committed V8 heap (young generation included): most of a thread's resident memory */
  heap_total_bytes: number | null;
  restarts: number;
  last_failure: string | null;
  failure: string | null;
}

/** What was dispatched and what fills did (the supervisor owns these counts; they only grow). */
export interface TotalsStatus {
  rounds: number;
  ticks: number;
  unrouted_ticks: number;
  signals: number;
  tick_errors: number;
  dropped_ticks: number;
  conflated_ticks: number;
  behind_episodes: number;
  /** threads that ended unexpectedly (each replaced), retired threads included */
  thread_failures: number;
  rejected_updates: number;
  fills_applied: number;
  fills_duplicate: number;
  fills_unknown_strategy: number;
}

/** The supervisor's part of the document. */
export interface SupervisorStatus {
  state: SupervisorStateName;
  threads: ThreadStatus[];
  rejected: { id: string; code: string; error: string }[];
  totals: TotalsStatus;
  routing: { instruments: number; strategies: number };
}

export interface ConsumerPartitionStatus {
  topic: string;
  partition: number;
  next_offset: number | null;
  warm_until_offset: number;
  high_watermark: number;
  lag: number;
  delivered_offset: number | null;
  committed_offset: number | null;
  last_batch_age_ms: number | null;
}

/** What the Kafka input counts (`consumer.counters`: its own, what it read). */
export interface ConsumerCounters {
  ticks: number;
  fills: number;
  warmupTicks: number;
  redeliveredTicks: number;
  revokedTicks: number;
  unownedTicks: number;
  badTicks: number;
  badFills: number;
  commits: number;
  commitErrors: number;
  assignments: number;
  revocations: number;
  lostPartitions: number;
}

/** `consumer` (run): the Kafka input. */
export interface ConsumerStatus {
  state: 'created' | 'catching-up' | 'consuming' | 'stopping' | 'stopped';
  ready: boolean;
  not_ready_reasons: string[];
  broker_reachable: boolean;
  last_broker_answer_age_ms: number;
  broker_unreachable_since: string | null;
  fills_caught_up: boolean;
  assignment: { topic: string; partition: number }[];
  warming_up_partitions: number[];
  partitions: ConsumerPartitionStatus[];
  queued_batches: number;
  /** the ticks consumer's consume loop: consume() calls, empty ones, messages, wake-ups by the queue callback, failed calls */
  fetch: { polls: number; empty_polls: number; messages: number; wakeups: number; errors: number };
  counters: ConsumerCounters;
}

/** `producer` (run): the signal sink. */
export interface ProducerStatus {
  connected: boolean;
  /** false while a write has waited more than 10 s for its acknowledgement */
  healthy: boolean;
  in_flight_signals: number;
  acknowledged_signals: number;
  dead_lettered: number;
  /** times a signal found librdkafka's local queue full and waited for deliveries to make room */
  queue_full_waits: number;
  last_error: string | null;
}

/** `pipeline`: what only the pipeline sees (delivery); what was dispatched is in `totals`. */
export interface PipelineStatus {
  signals_delivered: number;
  rounds_in_flight: number;
  pending_deliveries: number;
  signals_by_strategy: Record<string, number>;
  errors_by_strategy: Record<string, number>;
}

/** `config_watch` (run): the watcher that follows the strategy configurations while running. */
export interface ConfigWatchStatus {
  kind: 'postgres' | 'file';
  state: string;
  since: string;
  reloads: number;
  failures: number;
  last_reload_at: string | null;
  last_reload_reason: string | null;
  last_error: { code: string; message: string; at: string; reason: string } | null;
}

/** Ready, or the reasons why not, in words an operator can act on. */
export interface Readiness {
  ready: boolean;
  reasons: string[];
  /** degradations that do not make it unready (a database away while running) */
  warnings: string[];
}

/** `replay` (replay only). */
export interface ReplayStatus {
  ticks_file: string;
  progress: { done: number; total: number };
  pipeline: PipelineStatus | null;
  malformed_lines: number;
}

/** The sections a command adds to the document (run: the live ones; replay: `replay`). */
export interface StatusSections {
  service_state?: string;
  consumer?: ConsumerStatus;
  producer?: ProducerStatus;
  pipeline?: PipelineStatus | null;
  config_watch?: ConfigWatchStatus | null;
  replay?: ReplayStatus;
}

/** The whole document. */
export interface StatusDocument extends SupervisorStatus, StatusSections {
  service: 'strategy-runner';
  pid: number;
  uptime_s: number;
  readiness: Readiness;
  config_errors: { code: string; error: string }[];
}

/** Every field optional, all the way down. */
export type DeepPartial<T> = T extends readonly (infer E)[] ? DeepPartial<E>[] : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> | undefined } : T;

/**
 * The document as the `status` command receives it from a runner, perhaps of
 * another version: the same fields, any of them missing (shown as '-').
 */
export type ReceivedStatusDocument = DeepPartial<StatusDocument>;
