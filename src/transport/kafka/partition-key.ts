/** One partition of one topic. */
export interface PartitionId {
  readonly topic: string;
  readonly partition: number;
}

/**
 * The one map key of a topic-partition. A NUL cannot occur in a topic name,
 * so `a` + 1 and `a:1` never collide the way `topic:partition` strings can.
 */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
