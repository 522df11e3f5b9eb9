import { partitionKey, type PartitionId } from './partition-key.js';

/**
 * Where this process stands in one partition it reads, and the rule that
 * keeps a strategy from ever seeing a tick twice.
 *
 * The consumer group's committed offset lags what this process has already
 * dispatched (commits follow acknowledgements, every commitIntervalMs). After
 * a rebalance (a session that expired while the broker was away, a member
 * that joined or left) the client fetches again from the committed offset,
 * so without a position of our own the same ticks would pass through the live
 * strategies a second time and change their state. Our position wins: what
 * was dispatched is skipped, whatever the client delivers.
 */
export interface PartitionPosition {
  readonly topic: string;
  readonly partition: number;
  /** the next offset to hand to the pipeline: set on assignment (the plan's start) or by the first batch; undefined before */
  next: number | undefined;
  /**
   * offsets below this are warm-up: the strategies see them to rebuild their
   * state, their signals are not emitted (they were emitted before, by this
   * process before a restart or by another owner of the partition)
   */
  warmUntil: number;
  /** the end of the log, as far as we know */
  high: number;
  /** Date.now() of the last batch fetched (0 = none yet) */
  lastBatchAt: number;
  /**
   * the next offset whose ticks (and all before) have their signals
   * acknowledged: what may be committed (the group's committed offset at
   * assignment, at least); undefined until then
   */
  delivered: number | undefined;
  /** the offset last handed to a commit (or the group's at assignment); undefined when none, or after a failed commit */
  committed: number | undefined;
}

/** Where to start reading a partition that was just assigned. */
export interface AssignmentPlan {
  /** the offset to fetch from; undefined = the group's committed offset, or the reset policy when there is none */
  start: number | undefined;
  warmUntil: number;
  /** what the plan does, for the log */
  action: 'fresh' | 'warm-up' | 'resume' | 'rewarm';
  /** offsets nobody will show the strategies (another owner moved further than the warm-up reaches) */
  gap: number;
}

/**
 * The plan for one partition, from what this process dispatched (`next`,
 * undefined when it never had the partition), the group's committed offset
 * (undefined when there is none) and how many ticks a warm-up may re-read.
 *
 *  - never had it, no commit: start where the reset policy says, all live (`fresh`);
 *  - never had it, committed c: re-read up to `warmupMessages` before c as
 *    warm-up, live from c (`warm-up`: a restart, or a partition taken over);
 *    from `warmFrom` instead when that is earlier (where the strategies'
 *    snapshots stand);
 *  - had it up to `next` ≥ c: resume at `next`, nothing twice (`resume`: a
 *    rebalance, a lost session, a partition that came back);
 *  - had it up to `next` < c: another owner processed [next, c) and emitted
 *    their signals; re-read them as warm-up, live from c (`rewarm`).
 */
export function planAssignment(next: number | undefined, currentWarmUntil: number, committed: number | undefined, warmupMessages: number, warmFrom?: number): AssignmentPlan {
  const c = committed !== undefined && committed >= 0 ? committed : undefined;
  if (next === undefined) {
    if (c === undefined) return { start: undefined, warmUntil: 0, action: 'fresh', gap: 0 };
    // A snapshot older than the warm-up window: read from where it stands (its strategies skip what it already holds).
    const from = warmFrom === undefined ? c - warmupMessages : Math.min(c - warmupMessages, warmFrom);
    return { start: Math.max(0, from), warmUntil: c, action: 'warm-up', gap: 0 };
  }
  if (c === undefined || c <= next) return { start: next, warmUntil: Math.max(currentWarmUntil, c ?? 0), action: 'resume', gap: 0 };
  const start = Math.max(next, c - warmupMessages);
  return { start, warmUntil: c, action: 'rewarm', gap: start - next };
}

/** A topic-partition's next offset to read: what Kafka stores as committed (last processed + 1). */
export interface TopicPartitionOffset extends PartitionId {
  offset: number;
}

/**
 * The one position map of an input: per topic and partition, what was
 * dispatched (`next`), acknowledged (`delivered`) and committed. A tick batch
 * marks its partition delivered only once every signal from it (and from all
 * earlier batches) is acknowledged; the committer takes what changed since
 * the last commit. Delivered offsets never move backwards.
 */
export class PartitionPositions {
  readonly #byKey = new Map<string, PartitionPosition>();

  get(topic: string, partition: number): PartitionPosition {
    const key = partitionKey(topic, partition);
    let p = this.#byKey.get(key);
    if (p === undefined) {
      p = { topic, partition, next: undefined, warmUntil: 0, high: 0, lastBatchAt: 0, delivered: undefined, committed: undefined };
      this.#byKey.set(key, p);
    }
    return p;
  }

  find(topic: string, partition: number): PartitionPosition | undefined {
    return this.#byKey.get(partitionKey(topic, partition));
  }

  all(): IterableIterator<PartitionPosition> {
    return this.#byKey.values();
  }

  /** The group's committed offset at assignment: nothing below it is ever committed again. */
  floor(topic: string, partition: number, committed: number): void {
    const p = this.get(topic, partition);
    markDelivered(p, committed);
    p.committed = Math.max(p.committed ?? committed, committed);
  }

  /** Offsets delivered but not yet committed; marks them committed. */
  takeCommits(): TopicPartitionOffset[] {
    const out: TopicPartitionOffset[] = [];
    for (const p of this.#byKey.values()) {
      if (p.delivered !== undefined && p.committed !== p.delivered) {
        out.push({ topic: p.topic, partition: p.partition, offset: p.delivered });
        p.committed = p.delivered;
      }
    }
    return out;
  }

  /** Put offsets back after a failed commit, so the next attempt includes them. */
  restore(list: readonly PartitionId[]): void {
    for (const c of list) {
      const p = this.find(c.topic, c.partition);
      if (p !== undefined) p.committed = undefined;
    }
  }
}

/** Everything up to `nextOffset` is acknowledged (never moves back). */
export function markDelivered(p: PartitionPosition, nextOffset: number): void {
  if (p.delivered === undefined || nextOffset > p.delivered) p.delivered = nextOffset;
}

/** Messages between our position and the end of the log (a partition not read yet counts from 0). */
export function lagOf(p: PartitionPosition): number {
  return Math.max(0, p.high - (p.next ?? 0));
}
