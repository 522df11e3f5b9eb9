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
 *  - had it up to `next` ≥ c: resume at `next`, nothing twice (`resume`: a
 *    rebalance, a lost session, a partition that came back);
 *  - had it up to `next` < c: another owner processed [next, c) and emitted
 *    their signals; re-read them as warm-up, live from c (`rewarm`).
 */
export function planAssignment(next: number | undefined, currentWarmUntil: number, committed: number | undefined, warmupMessages: number): AssignmentPlan {
  const c = committed !== undefined && committed >= 0 ? committed : undefined;
  if (next === undefined) {
    if (c === undefined) return { start: undefined, warmUntil: 0, action: 'fresh', gap: 0 };
    return { start: Math.max(0, c - warmupMessages), warmUntil: c, action: 'warm-up', gap: 0 };
  }
  if (c === undefined || c <= next) return { start: next, warmUntil: Math.max(currentWarmUntil, c ?? 0), action: 'resume', gap: 0 };
  const start = Math.max(next, c - warmupMessages);
  return { start, warmUntil: c, action: 'rewarm', gap: start - next };
}

/** Per-partition positions of one input, keyed by topic and partition. */
export class PartitionPositions {
  readonly #byKey = new Map<string, PartitionPosition>();

  static key(topic: string, partition: number): string {
    return `${topic}\u0000${partition}`;
  }

  get(topic: string, partition: number): PartitionPosition {
    const key = PartitionPositions.key(topic, partition);
    let p = this.#byKey.get(key);
    if (p === undefined) this.#byKey.set(key, (p = { topic, partition, next: undefined, warmUntil: 0, high: 0, lastBatchAt: 0 }));
    return p;
  }

  find(topic: string, partition: number): PartitionPosition | undefined {
    return this.#byKey.get(PartitionPositions.key(topic, partition));
  }

  all(): IterableIterator<PartitionPosition> {
    return this.#byKey.values();
  }
}
