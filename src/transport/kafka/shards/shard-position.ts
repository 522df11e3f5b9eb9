import { RunnerError } from '../../../errors.js';

/**
 * A shard's position in market.ticks: per partition, the next offset whose
 * ticks the shard has not processed (what Kafka calls committed: last
 * processed + 1). Stored as the metadata of the coordination group's
 * committed offset of the shard's partition (docs/kafka.md "Shards"), in a
 * compact text form: `v1;0=1234,1=987`. The metadata is limited by the
 * broker's `offset.metadata.max.bytes` (4096 by default: about 300 ticks
 * partitions).
 */
export type ShardPosition = ReadonlyMap<number, number>;

const PREFIX = 'v1;';

export function encodeShardPosition(position: ShardPosition): string {
  const parts: string[] = [];
  for (const [p, o] of [...position.entries()].sort((a, b) => a[0] - b[0])) parts.push(`${p}=${o}`);
  return PREFIX + parts.join(',');
}

/** Throws SHARD_POSITION_INVALID (with the text) when it is not a position this version wrote. */
export function decodeShardPosition(text: string): Map<number, number> {
  const bad = (why: string): RunnerError => new RunnerError('SHARD_POSITION_INVALID', `shard position '${text.slice(0, 80)}' unreadable: ${why}`, { details: { metadata: text.slice(0, 200) } });
  if (!text.startsWith(PREFIX)) throw bad(`expected the prefix '${PREFIX}'`);
  const out = new Map<number, number>();
  const body = text.slice(PREFIX.length);
  if (body === '') return out;
  for (const item of body.split(',')) {
    const m = /^(\d+)=(\d+)$/.exec(item);
    if (m === null) throw bad(`'${item}' is not partition=offset`);
    const p = Number(m[1]);
    const o = Number(m[2]);
    if (!Number.isSafeInteger(o) || out.has(p)) throw bad(`'${item}' repeats a partition or is out of range`);
    out.set(p, o);
  }
  return out;
}

/**
 * The offset committed beside the metadata: the sum of the shard's partition
 * positions (never decreases while the shard advances; an operator reading
 * the group's offsets sees the shards move).
 */
export function positionOffset(position: ShardPosition): number {
  let sum = 0;
  for (const o of position.values()) sum += o;
  return sum;
}
