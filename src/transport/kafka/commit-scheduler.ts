import type { Logger } from 'pino';
import type { InputCounters } from './input-context.js';
import type { PartitionPositions, TopicPartitionOffset } from './partition-position.js';

/** Commits offsets to the group (the ticks consumer's `commitOffsets`); undefined while there is no consumer. */
export type OffsetCommitter = ((list: TopicPartitionOffset[]) => Promise<void>) | undefined;

/**
 * Commits, every `intervalMs` and when asked (at shutdown), the next offset of
 * each partition whose signals are acknowledged (the positions' `delivered`).
 * A failed commit is counted, logged and put back for the next one.
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
    this.#timer = setInterval(() => void this.commit(), intervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Commit every offset whose signals are acknowledged. Never rejects. */
  async commit(): Promise<void> {
    const list = this.#positions.takeCommits();
    const commit = this.#committer();
    if (list.length === 0 || commit === undefined) return;
    try {
      await commit(list);
      this.#counters.commits++;
    } catch (err) {
      this.#counters.commitErrors++;
      this.#positions.restore(list);
      this.#log.warn({ err, offsets: list }, 'offset commit failed; will retry');
    }
  }
}
