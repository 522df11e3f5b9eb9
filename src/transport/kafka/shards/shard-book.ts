import type { StrategyFilter } from '../../../ports.js';
import { ShardIndex } from '../../../routing/shard-of.js';
import type { Feed, Shard, ShardPartition } from './shard.js';

/** A shard's place in a partition, as a reader feeds it. */
export interface FedShard {
  readonly shard: Shard;
  readonly part: ShardPartition;
}

/**
 * The shards this runner holds (any state but released/dropped), the main
 * reader's position per partition of market.ticks, and the strategy filters
 * of shard sets (one per set, reused, so the router builds each subset's
 * route table once).
 */
export class ShardBook {
  readonly count: number;
  readonly index: ShardIndex;
  readonly #shards = new Map<number, Shard>();
  /** the main reader's next offset per partition (set when it is assigned) */
  readonly mainNext = new Map<number, number>();
  readonly #filters = new Map<string, StrategyFilter>();

  constructor(count: number) {
    this.count = count;
    this.index = new ShardIndex(count);
  }

  get(id: number): Shard | undefined {
    return this.#shards.get(id);
  }

  add(shard: Shard): void {
    this.#shards.set(shard.id, shard);
  }

  delete(shard: Shard): void {
    if (this.#shards.get(shard.id) === shard) this.#shards.delete(shard.id);
  }

  all(): IterableIterator<Shard> {
    return this.#shards.values();
  }

  get size(): number {
    return this.#shards.size;
  }

  /** The shards a reader feeds in a partition (taking ticks now), in shard order. */
  fed(feed: Feed, partition: number): FedShard[] {
    const out: FedShard[] = [];
    for (const shard of this.#shards.values()) {
      if (!shard.takesTicks) continue;
      const part = shard.parts.get(partition);
      if (part !== undefined && part.feed === feed) out.push({ shard, part });
    }
    return out;
  }

  /** Whether the strategy's shard is held here and its signals may go out. */
  emits(strategyId: string): boolean {
    return this.#shards.get(this.index.of(strategyId))?.emits === true;
  }

  /** The filter of the strategies of these shards (`ids` sorted ascending). */
  filterOf(ids: readonly number[]): StrategyFilter {
    const key = `shards:${ids.join(',')}`;
    let f = this.#filters.get(key);
    if (f === undefined) {
      const set = new Set(ids);
      const index = this.index;
      f = { key, accepts: (id: string) => set.has(index.of(id)) };
      if (this.#filters.size > 256) this.#filters.clear();
      this.#filters.set(key, f);
    }
    return f;
  }

  /** The shard that dead-letters the bad records of a partition (one per partition, so each is dead-lettered once in the deployment). */
  deadLetterShard(partition: number): number {
    return partition % this.count;
  }
}
