import { describe, expect, it } from 'vitest';
import { ShardIndex, shardOf } from '../../../src/routing/shard-of.js';

describe('shardOf', () => {
  it('is FNV-1a of the UTF-8 id, mixed by murmur3 fmix32, modulo the count (fixed values: part of a deployment layout, never to change)', () => {
    const fnv = (bytes: number[]): number => {
      let h = 0x811c9dc5;
      for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
      return h;
    };
    const fmix = (x: number): number => {
      let h = x;
      h ^= h >>> 16;
      h = Math.imul(h, 0x85ebca6b) >>> 0;
      h ^= h >>> 13;
      h = Math.imul(h, 0xc2b2ae35) >>> 0;
      return (h ^ (h >>> 16)) >>> 0;
    };
    // FNV-1a of "a" is 0xe40c292c (the published test vector).
    expect(fnv([0x61])).toBe(0xe40c292c);
    expect(shardOf('a', 2 ** 31)).toBe(fmix(0xe40c292c) % 2 ** 31);
    // UTF-8 bytes, not UTF-16 code units: 'é' is C3 A9.
    expect(shardOf('é', 1000)).toBe(fmix(fnv([0xc3, 0xa9])) % 1000);
    // Pinned: a change of the function moves every strategy of every deployment.
    expect(['mom-0', 'mr-1', 'Momentum_NIFTY50_1'].map((id) => shardOf(id, 32))).toEqual([31, 18, 31]);
  });

  it('modulo a power of two, ids differing only in letter case land on different shards (the bare FNV-1a did not)', () => {
    let same = 0;
    for (let i = 0; i < 200; i++) if (shardOf(`mom-nifty-${i}`, 32) === shardOf(`MOM-NIFTY-${i}`, 32)) same++;
    expect(same).toBeLessThan(30);
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
