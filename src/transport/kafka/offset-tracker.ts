/** A topic-partition's next offset to read: what Kafka stores as committed (last processed + 1). */
export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  offset: string;
}

/**
 * Which offsets may be committed. A tick batch marks its partition's next
 * offset as delivered only once every signal from it (and from all earlier
 * batches) has been acknowledged; the committer takes what changed since the
 * last commit. Offsets never move backwards.
 */
export class OffsetTracker {
  readonly #delivered = new Map<string, { topic: string; partition: number; next: number }>();
  readonly #committed = new Map<string, number>();

  delivered(topic: string, partition: number, nextOffset: number): void {
    const key = `${topic}\u0000${partition}`;
    const cur = this.#delivered.get(key);
    if (cur === undefined || nextOffset > cur.next) this.#delivered.set(key, { topic, partition, next: nextOffset });
  }

  /** The group's committed offset at start: nothing below it is ever committed again. */
  floor(topic: string, partition: number, committed: number): void {
    const key = `${topic}\u0000${partition}`;
    this.delivered(topic, partition, committed);
    this.#committed.set(key, Math.max(this.#committed.get(key) ?? committed, committed));
  }

  /** Offsets delivered but not yet committed; marks them committed. */
  takeCommits(): TopicPartitionOffset[] {
    const out: TopicPartitionOffset[] = [];
    for (const [key, d] of this.#delivered) {
      if (this.#committed.get(key) !== d.next) {
        out.push({ topic: d.topic, partition: d.partition, offset: String(d.next) });
        this.#committed.set(key, d.next);
      }
    }
    return out;
  }

  /** Put offsets back after a failed commit, so the next attempt includes them. */
  restore(list: readonly TopicPartitionOffset[]): void {
    for (const c of list) this.#committed.delete(`${c.topic}\u0000${c.partition}`);
  }

  /** The next offset delivered per partition (for status). */
  snapshot(): { topic: string; partition: number; delivered: number; committed: number | null }[] {
    return [...this.#delivered.entries()].map(([key, d]) => ({
      topic: d.topic,
      partition: d.partition,
      delivered: d.next,
      committed: this.#committed.get(key) ?? null,
    }));
  }
}
