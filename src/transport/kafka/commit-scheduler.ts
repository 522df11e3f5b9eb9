import type { Logger } from 'pino';
import type { InputCounters } from './input-context.js';
import type { PartitionId } from './partition-key.js';
import type { PartitionPositions, TopicPartitionOffset } from './partition-position.js';

/**
 * Hands offsets to the client for committing (the ticks consumer's async
 * commit: the broker's answer comes to `CommitScheduler.answered`) and
 * returns those it left out for now (partitions not assigned to it); throws
 * when the client refuses them. Undefined while there is no consumer.
 */
export type OffsetCommitter = ((list: TopicPartitionOffset[]) => readonly PartitionId[]) | undefined;

/** The broker's answer for one partition of a commit. */
export interface CommitAnswer {
  topic: string;
  partition: number;
  /** set when the broker refused this partition's offset */
  error?: unknown;
}

/**
 * Commits, every `intervalMs` and when asked (at shutdown), the next offset of
 * each partition whose signals are acknowledged (the positions' `delivered`).
 * A commit that cannot be handed over, or that the broker refuses, is
 * counted, logged and put back for the next one; `commits` counts those the
 * broker acknowledged.
 */
export class CommitScheduler {
  readonly #positions: PartitionPositions;
  readonly #counters: InputCounters;
  readonly #log: Logger;
  readonly #committer: () => OffsetCommitter;
  #timer: NodeJS.Timeout | undefined;

  constructor(positions: PartitionPositions, counters: InputCounters, log: Logger, committer: () => OffsetCommitter) {
    this.#positions = positions;
    this.#counters = counters;
    this.#log = log;
    this.#committer = committer;
  }

  start(intervalMs: number): void {
    clearInterval(this.#timer);
    this.#timer = setInterval(() => this.commit(), intervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Hand every offset whose signals are acknowledged to the client. Never throws. */
  commit(): void {
    const commit = this.#committer();
    if (commit === undefined) return;
    const list = this.#positions.takeCommits();
    if (list.length === 0) return;
    try {
      const left = commit(list);
      if (left.length > 0) this.#positions.restore(left);
    } catch (err) {
      this.#failed(list, err, 'offset commit failed; will retry');
    }
  }

  /** The broker's answer to a commit (the consumer's offset-commit callback). */
  answered(err: unknown, offsets: readonly CommitAnswer[]): void {
    const refused = err ? offsets : offsets.filter((o) => o.error !== undefined && o.error !== null);
    if (refused.length === 0) {
      this.#counters.commits++;
      return;
    }
    this.#failed(refused, err ?? refused[0]!.error, 'the broker refused an offset commit; will retry');
  }

  #failed(list: readonly { topic: string; partition: number }[], err: unknown, message: string): void {
    this.#counters.commitErrors++;
    this.#positions.restore(list);
    this.#log.warn({ err: (err as Error)?.message ?? String(err), kafka_code: (err as { code?: unknown })?.code, partitions: list.map((p) => `${p.topic}[${p.partition}]`) }, message);
  }
}
