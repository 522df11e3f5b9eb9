import type { ShardPosition } from '../shards/shard-position.js';
import type { TxnProducer } from './shard-transactions.js';
import type { Headers } from '../kafka-signal-sink.js';

/** A signal waiting for its shard's next transaction, encoded, with the round it came from. */
export interface PendingSignal {
  /** the pipeline's round: committable once every round up to it is settled (its ticks are in the shard's position) */
  round: number;
  topic: string;
  value: Buffer;
  key: string;
  headers: Headers | undefined;
}

/** A dead letter waiting for the transaction whose position passes its record. */
export interface PendingDeadLetter {
  partition: number;
  offset: number;
  topic: string;
  value: Buffer | null;
  key: Buffer | null;
  headers: Headers;
}

/** What /status shows of one shard's transactions. */
export interface ShardTxnStats {
  committed: number;
  aborted: number;
  /** commits retried after a retriable error (a timeout) */
  retries: number;
  /** producers built again after a fatal error */
  rebuilds: number;
  /** signals and dead letters committed */
  signals: number;
  deadLetters: number;
  /** the last commit: from begin to the broker's answer */
  lastMs: number;
  totalMs: number;
  maxMs: number;
  lastError: string | null;
}

/**
 * One held shard's exactly-once state: its transactional producer (its own
 * transactional.id) and what waits for its next transaction (the position
 * its last transaction committed is the shard's own: `Shard.committed`).
 */
export class ShardTxn {
  readonly id: number;
  producer: TxnProducer | undefined;
  signals: PendingSignal[] = [];
  deadLetters: PendingDeadLetter[] = [];
  /** when a position alone was last committed (ms) */
  positionCommittedAt = 0;
  /** when the oldest signal or dead letter not yet committed arrived (ms); undefined when none waits */
  waitingSince: number | undefined;
  /** the commit in flight (one at a time per shard) */
  running: Promise<void> | undefined;
  /** given up (released, lost, fenced): nothing more is committed */
  closed = false;
  readonly stats: ShardTxnStats = { committed: 0, aborted: 0, retries: 0, rebuilds: 0, signals: 0, deadLetters: 0, lastMs: 0, totalMs: 0, maxMs: 0, lastError: null };

  constructor(id: number) {
    this.id = id;
  }

  add(s: PendingSignal, now: number): void {
    this.signals.push(s);
    this.waitingSince ??= now;
  }

  addDeadLetter(d: PendingDeadLetter, now: number): void {
    this.deadLetters.push(d);
    this.waitingSince ??= now;
  }

  /** Take the signals of rounds up to `cut` (in arrival order: per strategy, round order). */
  takeSignals(cut: number): PendingSignal[] {
    if (this.signals.length === 0) return [];
    const take: PendingSignal[] = [];
    const keep: PendingSignal[] = [];
    for (const s of this.signals) (s.round <= cut ? take : keep).push(s);
    this.signals = keep;
    return take;
  }

  /** Take the dead letters whose record the position has passed (committing them earlier would dead-letter them again after a failover). */
  takeDeadLetters(position: ShardPosition): PendingDeadLetter[] {
    if (this.deadLetters.length === 0) return [];
    const take: PendingDeadLetter[] = [];
    const keep: PendingDeadLetter[] = [];
    for (const d of this.deadLetters) (d.offset < (position.get(d.partition) ?? 0) ? take : keep).push(d);
    this.deadLetters = keep;
    return take;
  }

  /** A transaction that did not commit: its content goes first into the next one. */
  putBack(signals: PendingSignal[], deadLetters: PendingDeadLetter[], now: number): void {
    if (signals.length > 0) this.signals = [...signals, ...this.signals];
    if (deadLetters.length > 0) this.deadLetters = [...deadLetters, ...this.deadLetters];
    if (this.signals.length + this.deadLetters.length > 0) this.waitingSince ??= now;
  }

  /** A transaction committed: what still waits started waiting now. */
  committed(ms: number, signals: number, deadLetters: number, now: number): void {
    const st = this.stats;
    st.committed++;
    st.signals += signals;
    st.deadLetters += deadLetters;
    st.lastMs = ms;
    st.totalMs += ms;
    if (ms > st.maxMs) st.maxMs = ms;
    this.waitingSince = this.signals.length + this.deadLetters.length > 0 ? now : undefined;
  }

  /** Drop everything waiting (the shard is no longer ours); returns how many signals were dropped. */
  discard(): number {
    const n = this.signals.length;
    this.signals = [];
    this.deadLetters = [];
    this.waitingSince = undefined;
    this.closed = true;
    return n;
  }
}
