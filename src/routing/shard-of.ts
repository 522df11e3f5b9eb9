/**
 * The shard a strategy belongs to: FNV-1a (32 bits) of its id's UTF-8 bytes,
 * modulo the shard count. Stable across processes, hosts and versions (it is
 * part of the deployment's layout: docs/kafka.md "Shards"); never change it.
 */
export function shardOf(strategyId: string, shards: number): number {
  let h = 0x811c9dc5;
  const bytes = Buffer.from(strategyId, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % shards;
}

/** A cached shardOf for one shard count (the sink gate asks once per signal). */
export class ShardIndex {
  readonly shards: number;
  readonly #cache = new Map<string, number>();

  constructor(shards: number) {
    this.shards = shards;
  }

  of(strategyId: string): number {
    let s = this.#cache.get(strategyId);
    if (s === undefined) {
      s = shardOf(strategyId, this.shards);
      if (this.#cache.size > 100_000) this.#cache.clear();
      this.#cache.set(strategyId, s);
    }
    return s;
  }
}
