import { describe, expect, it } from 'vitest';
import { ShardIndex, shardOf } from '../../../src/routing/shard-of.js';

describe('shardOf', () => {
  it('is FNV-1a of the UTF-8 id modulo the count (fixed values: part of a deployment layout, never to change)', () => {
    // FNV-1a 32-bit of "a" is 0xe40c292c; of "" is the offset basis 0x811c9dc5.
    expect(shardOf('a', 2 ** 31)).toBe(0xe40c292c % 2 ** 31);
    expect(shardOf('', 1000)).toBe(0x811c9dc5 % 1000);
    expect(shardOf('mom-0', 32)).toBe(shardOf('mom-0', 32));
    // UTF-8 bytes, not UTF-16 code units: 'é' is C3 A9.
    let h = 0x811c9dc5;
    for (const b of [0xc3, 0xa9]) h = Math.imul(h ^ b, 0x01000193) >>> 0;
    expect(shardOf('é', 2 ** 31)).toBe(h % 2 ** 31);
  });

  it('spreads ids over the shards', () => {
    const counts = new Array<number>(32).fill(0);
    for (let i = 0; i < 3200; i++) counts[shardOf(`strategy-${i}`, 32)]!++;
    expect(Math.min(...counts)).toBeGreaterThan(60);
    expect(Math.max(...counts)).toBeLessThan(140);
  });

  it('ShardIndex caches the same answers', () => {
    const idx = new ShardIndex(8);
    for (const id of ['x', 'y', 'z', 'x']) expect(idx.of(id)).toBe(shardOf(id, 8));
  });
});
