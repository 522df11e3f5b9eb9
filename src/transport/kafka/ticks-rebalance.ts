import { Backoff } from '../../timing/backoff.js';
import { sleep } from '../../timing/sleep.js';
import type { AssignedPartition } from './consumer-options.js';
import type { InputContext } from './input-context.js';
import type { PartitionId } from './partition-key.js';
import { planAssignment } from './partition-position.js';
import type { PartitionOwner } from './rebalance-sequencer.js';

/**
 * What the low-level consumer's `committed()` answers per partition: no
 * offset (or a negative one, librdkafka's "invalid") when the group has no
 * commit; `error` when the broker could not answer for it.
 */
export interface CommittedOffset {
  partition: number;
  offset?: number;
  /** the commit's metadata string, when it had one (a shard's position) */
  metadata?: string | null;
  error?: unknown;
}

/** Reads the group's committed offsets of some partitions (the ticks consumer's `committed(parts, timeoutMs)`). */
export type CommittedReader = (parts: PartitionId[], timeoutMs: number) => Promise<CommittedOffset[]>;

/**
 * The ticks consumer's rebalance callback: where each assigned partition
 * starts, and up to where it is warm-up (see planAssignment: resume at our
 * own position, warm up after a restart, re-warm what another owner
 * processed). The group's committed offsets are read through the ticks
 * consumer's own group handle: the admin client's OffsetFetch can crash the
 * process (docs/kafka.md). On revocation or loss, positions are kept: a
 * partition that comes back resumes where this process left it.
 */
export class TicksRebalance implements PartitionOwner {
  readonly #ctx: InputContext;
  readonly #committed: CommittedReader;

  constructor(ctx: InputContext, committed: CommittedReader) {
    this.#ctx = ctx;
    this.#committed = committed;
  }

  /** On revocation or loss: positions are kept (a partition that comes back resumes where it was), counted and logged. */
  revoked(parts: PartitionId[], lost: boolean): void {
    const { counters, log } = this.#ctx;
    counters.revocations += parts.length;
    if (lost) counters.lostPartitions += parts.length;
    log.warn({ partitions: parts, lost }, lost ? 'ticks partitions lost (session expired); positions kept for when they come back' : 'ticks partitions revoked');
  }

  /** On assignment: where each partition starts, and up to where it is warm-up. */
  async assigned(parts: PartitionId[]): Promise<AssignedPartition[]> {
    const { counters, log, positions } = this.#ctx;
    counters.assignments += parts.length;
    const committed = await this.committedOffsets(parts);
    const { warmupMessages } = this.#ctx.config.consumer;
    const out: AssignedPartition[] = [];
    for (const tp of parts) {
      const pos = positions.get(tp.topic, tp.partition);
      const c = committed.get(tp.partition);
      if (c !== undefined && c >= 0) positions.floor(tp.topic, tp.partition, c);
      const plan = planAssignment(pos.next, pos.warmUntil, c, warmupMessages, this.#ctx.warmFrom.get(`${tp.topic}/${tp.partition}`));
      pos.warmUntil = plan.warmUntil;
      // The log reaches at least the committed offset: the partition counts as warming up from now, not from its first fetch.
      pos.high = Math.max(pos.high, plan.warmUntil);
      // Fetching resumes at the plan's start; anything below it that the client still hands over is skipped.
      if (plan.start !== undefined) pos.next = plan.start;
      // No offset: the group's committed one, else the reset policy (earliest).
      out.push(plan.start === undefined ? { ...tp } : { ...tp, offset: plan.start });
      const facts = { topic: tp.topic, partition: tp.partition, committed: c ?? null, start: plan.start ?? null, warm_until: plan.warmUntil };
      if (plan.gap > 0) log.warn({ ...facts, gap: plan.gap }, 'partition taken over after another owner moved further than the warm-up reaches: its strategies skip ticks');
      else if (plan.action !== 'fresh') log.info({ ...facts, action: plan.action }, 'ticks partition assigned');
    }
    return out;
  }

  /**
   * The group's committed offsets of these partitions by partition number,
   * retried (250 ms doubling to 5 s) until it answers or the input stops
   * (then empty): a wrong start would either re-emit or skip ticks.
   */
  async committedOffsets(parts: PartitionId[]): Promise<Map<number, number>> {
    const backoff = new Backoff({ initialMs: 250, maxMs: 5000 });
    for (let attempt = 1; ; attempt++) {
      try {
        const list = await this.#committed(parts, 10_000);
        // A partition the broker answered with an error: not "no commit".
        const failed = list.filter((c) => c.error !== undefined && c.error !== null);
        if (failed.length > 0) throw new Error(`${failed.length} of ${parts.length} partitions answered with an error: ${String((failed[0]!.error as Error)?.message ?? failed[0]!.error)}`);
        this.#ctx.broker.answered();
        return new Map(list.filter((c) => typeof c.offset === 'number' && c.offset >= 0).map((c) => [c.partition, c.offset!]));
      } catch (err) {
        if (this.#ctx.stopped.aborted) return new Map();
        const delay = backoff.next();
        this.#ctx.log.warn({ err: (err as Error).message, attempt, retry_in_ms: delay }, 'committed offsets of the assigned ticks partitions not readable yet; retrying');
        if (!(await sleep(delay, this.#ctx.stopped))) return new Map();
      }
    }
  }
}
