/**
 * The shard a strategy belongs to: FNV-1a (32 bits) of its id's UTF-8 bytes,
 * mixed by murmur3's finaliser, modulo the shard count. Stable across
 * processes, hosts and versions (it is part of the deployment's layout:
 * docs/kafka.md "Shards"); never change it.
 *
 * The finaliser matters: FNV-1a's multiply never carries high bits down, so
 * modulo a power of two (the default count, 32) the bare hash depends only on
 * the low bits of each byte, and `mom-nifty` and `MOM-NIFTY` always shared a
 * shard.
 */
export function shardOf(strategyId: string, shards: number): number {
  let h = 0x811c9dc5;
  const bytes = Buffer.from(strategyId, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
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
