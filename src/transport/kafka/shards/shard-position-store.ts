import type { Logger } from 'pino';
import { Backoff } from '../../../timing/backoff.js';
import { sleep } from '../../../timing/sleep.js';
import type { BrokerContact } from '../broker-contact.js';
import { errorCode } from '../client.js';
import type { CommitAnswer } from '../commit-scheduler.js';
import type { InputCounters } from '../input-context.js';
import type { InputConsumer } from '../input-consumer.js';
import { ERR } from '../native-client.js';
import type { PartitionId } from '../partition-key.js';
import type { CommittedOffset } from '../ticks-rebalance.js';
import type { Shard } from './shard.js';
import type { ShardBook } from './shard-book.js';
import { decodeShardPosition, encodeShardPosition, positionOffset, type ShardPosition } from './shard-position.js';

/** How long a release waits for the broker's answer to its position's commit. */
const RELEASE_COMMIT_WAIT_MS = 5000;

export interface ShardPositionStoreOptions {
  /** the coordination consumer: its group's committed offsets (and their metadata) are the shards' positions */
  coordinator: InputConsumer;
  /** the coordination topic (partition p = shard p) */
  topic: string;
  ticksTopic: string;
  book: ShardBook;
  counters: InputCounters;
  shardCounters: { positionsUnreadable: number };
  broker: BrokerContact;
  log: Logger;
  stopped: AbortSignal;
}

/** What an acquisition reads: the shards' stored positions, and the group's own offsets of market.ticks for shards with none. */
export interface StoredPositions {
  positions: Map<number, ShardPosition>;
  legacy: Map<number, number>;
}

/**
 * Where the shards' positions live: the metadata of the coordination
 * group's committed offsets (docs/kafka.md "Shards"). Reads them at
 * acquisition, commits them (every commitIntervalMs, at a release and at
 * close) and takes the broker's answers; a release waits for the answer to
 * its own commit.
 */
export class ShardPositionStore {
  readonly #o: ShardPositionStoreOptions;
  /** per coordination partition: commits handed over and answered (a release waits for its own) */
  readonly #issued = new Map<number, number>();
  readonly #answered = new Map<number, number>();

  constructor(o: ShardPositionStoreOptions) {
    this.#o = o;
  }

  /**
   * The stored positions of these shards and the group's committed offsets
   * of market.ticks (a deployment that ran unsharded under this group id),
   * through one `committed()` of the coordination consumer, retried until
   * the broker answers or the input stops (then empty).
   */
  async read(ids: readonly number[], ticksPartitions: readonly number[]): Promise<StoredPositions> {
    const { coordinator, topic, ticksTopic, broker, log, stopped } = this.#o;
    const parts: PartitionId[] = [...ids.map((partition) => ({ topic, partition })), ...ticksPartitions.map((partition) => ({ topic: ticksTopic, partition }))];
    const backoff = new Backoff({ initialMs: 250, maxMs: 5000 });
    for (let attempt = 1; ; attempt++) {
      try {
        const list: CommittedOffset[] = await coordinator.committed(parts, 10_000);
        const failed = list.filter((c) => c.error !== undefined && c.error !== null);
        if (failed.length > 0) throw new Error(`${failed.length} of ${parts.length} partitions answered with an error: ${String((failed[0]!.error as Error)?.message ?? failed[0]!.error)}`);
        broker.answered();
        return this.#decode(list as (CommittedOffset & { topic: string })[]);
      } catch (err) {
        if (stopped.aborted) return { positions: new Map(), legacy: new Map() };
        const delay = backoff.next();
        log.warn({ err: (err as Error).message, attempt, retry_in_ms: delay }, 'shard positions not readable yet; retrying');
        if (!(await sleep(delay, stopped))) return { positions: new Map(), legacy: new Map() };
      }
    }
  }

  #decode(list: readonly (CommittedOffset & { topic: string })[]): StoredPositions {
    const positions = new Map<number, ShardPosition>();
    const legacy = new Map<number, number>();
    for (const c of list) {
      if (c.topic === this.#o.ticksTopic) {
        if (typeof c.offset === 'number' && c.offset >= 0) legacy.set(c.partition, c.offset);
        continue;
      }
      if (typeof c.metadata !== 'string' || c.metadata === '') continue;
      try {
        positions.set(c.partition, decodeShardPosition(c.metadata));
      } catch (err) {
        this.#o.shardCounters.positionsUnreadable++;
        this.#o.log.warn({ shard: c.partition, err: (err as Error).message }, 'stored shard position unreadable; the shard starts from the group offsets of market.ticks');
      }
    }
    return { positions, legacy };
  }

  /** Hand the shards' positions to the coordination consumer's commit; with `wait` (a release, close), until the broker answers (bounded). */
  async commit(shards: readonly Shard[], wait: boolean): Promise<void> {
    const { coordinator, topic, counters, log } = this.#o;
    if (shards.length === 0 || !coordinator.started) return;
    const list = shards.map((s) => {
      const position = s.position();
      return { shard: s, position, tp: { topic, partition: s.id, offset: positionOffset(position), metadata: encodeShardPosition(position) } };
    });
    let left: { topic: string; partition: number }[] = [];
    try {
      // A release commits inside its revocation: the partition is no longer in the sequencer's owned set, still assigned in the client.
      if (wait) coordinator.commitDuringRevocation(list.map((x) => x.tp));
      else left = coordinator.commit(list.map((x) => x.tp));
    } catch (err) {
      counters.commitErrors++;
      log.warn({ err: (err as Error).message, shards: shards.map((s) => s.id) }, 'shard position commit failed; will retry');
      return;
    }
    const targets: [number, number][] = [];
    for (const x of list) {
      if (left.some((l) => l.partition === x.tp.partition)) continue;
      x.shard.markCommitted(x.position);
      const n = (this.#issued.get(x.shard.id) ?? 0) + 1;
      this.#issued.set(x.shard.id, n);
      targets.push([x.shard.id, n]);
    }
    if (!wait) return;
    const deadline = Date.now() + RELEASE_COMMIT_WAIT_MS;
    while (targets.some(([id, n]) => (this.#answered.get(id) ?? 0) < n) && Date.now() < deadline) await sleep(10);
  }

  /** The broker's answer to a commit (the coordination consumer's offset-commit callback). */
  answered(err: unknown, offsets: readonly CommitAnswer[]): void {
    const { topic, book, counters, log } = this.#o;
    let refused = false;
    for (const o of offsets) {
      if (o.topic !== topic) continue;
      this.#answered.set(o.partition, (this.#answered.get(o.partition) ?? 0) + 1);
      if (err || (o.error !== undefined && o.error !== null)) {
        refused = true;
        book.get(o.partition)?.uncommit();
      }
    }
    if (!refused) {
      counters.commits++;
      return;
    }
    counters.commitErrors++;
    const e = err ?? offsets.find((o) => o.error)?.error;
    const code = errorCode(e);
    const facts = { err: (e as Error)?.message ?? String(e), kafka_code: code, shards: offsets.map((o) => o.partition) };
    // A commit sent while the group rebalances carries the generation before it: expected, and sent again by the next commit.
    if (code === ERR.ILLEGAL_GENERATION || code === ERR.REBALANCE_IN_PROGRESS || code === ERR.UNKNOWN_MEMBER_ID) log.info(facts, 'shard position commit refused during a rebalance; the next commit sends it again');
    else log.warn(facts, 'the broker refused a shard position commit; will retry');
  }
}
