import { describe, expect, it } from 'vitest';
import { decodeShardPosition, encodeShardPosition, positionOffset } from '../../../../../src/transport/kafka/shards/shard-position.js';

describe('shard position codec (the coordination group commit metadata)', () => {
  it('round-trips, partitions in order', () => {
    const text = encodeShardPosition(new Map([[2, 30], [0, 10], [1, 0]]));
    expect(text).toBe('v1;0=10,1=0,2=30');
    expect([...decodeShardPosition(text)]).toEqual([[0, 10], [1, 0], [2, 30]]);
    expect(decodeShardPosition('v1;').size).toBe(0);
  });

  it('the committed offset is the sum of the positions', () => {
    expect(positionOffset(new Map([[0, 10], [1, 5]]))).toBe(15);
  });

  it('refuses what this version did not write, naming it', () => {
    for (const bad of ['', '0=1', 'v2;0=1', 'v1;0=1,', 'v1;0=-1', 'v1;a=1', 'v1;0=1,0=2']) {
      expect(() => decodeShardPosition(bad)).toThrow(expect.objectContaining({ code: 'SHARD_POSITION_INVALID' }));
    }
  });

  it('stays under the broker metadata limit (4096 bytes) for 200 partitions at 12-digit offsets', () => {
    const big = new Map(Array.from({ length: 200 }, (_, p) => [p, 999_999_999_999] as [number, number]));
    expect(encodeShardPosition(big).length).toBeLessThan(4096);
  });
});
