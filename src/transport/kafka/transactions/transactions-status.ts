import type { KafkaConfig } from '../kafka-config.js';
import type { ShardTxn } from './shard-txn.js';

/** One shard's transactions on /status (`transactions.shards[]`). */
export interface ShardTransactionsStatus {
  shard: number;
  transactional_id: string;
  /** its producer is open (initTransactions done): its transactions can commit */
  producer_ready: boolean;
  committed: number;
  aborted: number;
  retries: number;
  rebuilds: number;
  signals_committed: number;
  dead_letters_committed: number;
  /** signals waiting for its next transaction */
  waiting_signals: number;
  /** how long the oldest signal or dead letter not yet committed has waited (ms): the open transaction's age */
  open_age_ms: number;
  last_commit_ms: number;
  avg_commit_ms: number;
  max_commit_ms: number;
  committing: boolean;
  last_error: string | null;
}

/** `transactions` on /status (kafka.delivery: exactly-once). */
export interface TransactionsStatus {
  delivery: 'exactly-once';
  commit_interval_ms: number;
  max_rounds: number;
  committed: number;
  aborted: number;
  fenced: number;
  rebuilds: number;
  init_failures: number;
  /** signals of shards given up (released past the timeout, lost, fenced) before their transaction: their next owner emits them */
  dropped_signals: number;
  waiting_signals: number;
  /** the oldest open transaction's age (ms) */
  max_open_age_ms: number;
  /** the last settled round: signals of rounds up to it can be committed */
  settled_round: number;
  /** commit durations over the last 1024 transactions (ms) */
  commit_ms: { p50: number; p99: number; max: number; count: number };
  shards: ShardTransactionsStatus[];
}

export interface TransactionsStatusInput {
  txns: Iterable<ShardTxn>;
  counters: { committed: number; aborted: number; fenced: number; rebuilds: number; droppedSignals: number; initFailures: number };
  durations: readonly number[];
  buffered: number;
  cut: number;
  config: KafkaConfig['transactions'];
  now: number;
  idOf: (shard: number) => string;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

export function transactionsStatus(i: TransactionsStatusInput): TransactionsStatus {
  const shards = [...i.txns]
    .sort((a, b) => a.id - b.id)
    .map((t): ShardTransactionsStatus => {
      const st = t.stats;
      return {
        shard: t.id,
        transactional_id: i.idOf(t.id),
        producer_ready: t.producer !== undefined,
        committed: st.committed,
        aborted: st.aborted,
        retries: st.retries,
        rebuilds: st.rebuilds,
        signals_committed: st.signals,
        dead_letters_committed: st.deadLetters,
        waiting_signals: t.signals.length,
        open_age_ms: t.waitingSince === undefined ? 0 : Math.max(0, i.now - t.waitingSince),
        last_commit_ms: round1(st.lastMs),
        avg_commit_ms: st.committed === 0 ? 0 : round1(st.totalMs / st.committed),
        max_commit_ms: round1(st.maxMs),
        committing: t.running !== undefined,
        last_error: st.lastError,
      };
    });
  const sorted = [...i.durations].sort((a, b) => a - b);
  return {
    delivery: 'exactly-once',
    commit_interval_ms: i.config.commitIntervalMs,
    max_rounds: i.config.maxRounds,
    committed: i.counters.committed,
    aborted: i.counters.aborted,
    fenced: i.counters.fenced,
    rebuilds: i.counters.rebuilds,
    init_failures: i.counters.initFailures,
    dropped_signals: i.counters.droppedSignals,
    waiting_signals: i.buffered,
    max_open_age_ms: shards.reduce((a, s) => Math.max(a, s.open_age_ms), 0),
    settled_round: i.cut,
    commit_ms: { p50: round1(quantile(sorted, 0.5)), p99: round1(quantile(sorted, 0.99)), max: round1(sorted.at(-1) ?? 0), count: sorted.length },
    shards,
  };
}
