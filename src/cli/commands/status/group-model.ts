import { shardOf } from '../../../routing/shard-of.js';
import { decodeShardPosition } from '../../../transport/kafka/shards/shard-position.js';

// `status --group`: a sharded deployment as Kafka sees it, assembled from
// what GroupReader read (pure: no client here, so it is unit-tested alone).
// A shard's effective start in a ticks partition is what a runner acquiring
// it would use (ShardedInput#acquire): its stored position, else the group's
// own committed offset of market.ticks (a deployment that ran unsharded under
// this group id), else the beginning; below the low watermark, the low
// watermark (the consumer's reset policy is `earliest`).

/** One member of the coordination group, as DescribeGroups answered. */
export interface RawMember {
  memberId: string;
  clientId: string;
  /** as the broker saw it: `/127.0.0.1` */
  clientHost: string;
  groupInstanceId?: string | undefined;
  /** the member's current assignment (every topic of it) */
  partitions: readonly { topic: string; partition: number }[];
}

/** What GroupReader read: everything the view is made of, untouched. */
export interface GroupSnapshot {
  group: string;
  coordinationTopic: string;
  ticksTopic: string;
  /** kafka.shards.count of the given configuration */
  shardCount: number;
  /** what a runner's coordination client id starts with: `${kafka.clientId}/` */
  clientIdPrefix: string;
  /** the group's state name (Stable, PreparingRebalance, Empty, Dead, ...) */
  state: string;
  assignor: string;
  /** `host:port (id N)`, when the broker named one */
  coordinator: string | null;
  members: readonly RawMember[];
  /** partitions of the coordination topic; null when the topic does not exist */
  coordinationPartitions: number | null;
  /** the group's committed offsets of the coordination topic (metadata = a shard's position) */
  committed: readonly { partition: number; offset: number; metadata: string | null }[];
  /** the group's own committed offsets of market.ticks (partition → next offset) */
  groupTicksOffsets: ReadonlyMap<number, number>;
  /** market.ticks' watermarks; null when the topic does not exist */
  ticks: readonly { partition: number; low: number; high: number }[] | null;
  /** the strategy configurations, or why they could not be read */
  strategies: { source: string; configs: readonly { id: string; is_active: boolean }[]; invalid: number } | { source: string; error: string };
  readAt: Date;
}

/** Where a shard starts in one ticks partition: its own position, the group's offset, or the beginning. */
export type PositionFrom = 'shard' | 'group' | 'start';

export interface GroupShardPartition {
  partition: number;
  /** the next offset the shard processes in this partition (what a runner acquiring it starts from) */
  next_offset: number;
  from: PositionFrom;
  high_watermark: number;
  lag: number;
}

export interface GroupShard {
  shard: number;
  /** the runner (instance) holding it; null: nobody */
  runner: string | null;
  member_id: string | null;
  /** set when the group names more than one holder (mid-rebalance): every one of them */
  also_held_by: string[];
  /** `stored`: the shard has a position of its own; `none`: never committed; `unreadable`: see position_error */
  position: 'stored' | 'none' | 'unreadable';
  position_error: string | null;
  /** sum of the partitions' lag (ticks between the shard's position and the end of each partition) */
  lag: number;
  partitions: GroupShardPartition[];
  /** active strategies that hash into this shard (null when the configurations could not be read) */
  strategies: string[] | null;
}

export interface GroupRunner {
  instance: string;
  /** the member's client id; `instance` is it without the `${kafka.clientId}/` prefix */
  client_id: string;
  member_id: string;
  host: string;
  /** false: a member whose client id is not a runner's of this configuration (another kafka.clientId, or not a runner) */
  runner: boolean;
  shards: number[];
  strategies: number | null;
  /** the largest lag of its shards (each shard has its own position; the runner reads every tick once for all of them) */
  max_lag: number;
}

/** The deployment view: `status --group --json` prints it as is. */
export interface GroupView {
  group: string;
  coordination_topic: string;
  ticks_topic: string;
  shard_count: number;
  state: string;
  assignor: string;
  coordinator: string | null;
  read_at: string;
  runners: GroupRunner[];
  shards: GroupShard[];
  unassigned: number[];
  strategies: { source: string; active: number; inactive: number; invalid: number; error: string | null };
  /** sentences an operator should read before trusting the tables */
  warnings: string[];
}

/** The view, from a snapshot. */
export function assembleGroupView(s: GroupSnapshot): GroupView {
  const warnings: string[] = [];
  if (s.coordinationPartitions === null) {
    warnings.push(`the coordination topic ${s.coordinationTopic} does not exist: no sharded runner of this deployment has started yet (or kafka.shards.topic differs from the runners')`);
  } else if (s.coordinationPartitions !== s.shardCount) {
    warnings.push(
      `the coordination topic ${s.coordinationTopic} has ${s.coordinationPartitions} partitions but kafka.shards.count is ${s.shardCount}: runners with this configuration refuse to start (SHARDS_MISMATCH); check the configuration given`,
    );
  }
  if (s.ticks === null) warnings.push(`the ticks topic ${s.ticksTopic} does not exist: no lag can be computed`);
  if (s.members.length > 0 && s.state !== 'Stable') warnings.push(`the group is ${s.state}: a rebalance is under way, the assignment may change in a moment`);

  // Members: the runner's instance name is its coordination client id without the prefix.
  const runners: GroupRunner[] = s.members.map((m) => {
    const ours = m.clientId.startsWith(s.clientIdPrefix) && m.clientId.length > s.clientIdPrefix.length;
    return {
      instance: ours ? m.clientId.slice(s.clientIdPrefix.length) : m.clientId,
      client_id: m.clientId,
      member_id: m.memberId,
      host: m.clientHost.replace(/^\//, ''),
      runner: ours,
      shards: m.partitions.filter((p) => p.topic === s.coordinationTopic).map((p) => p.partition).sort((a, b) => a - b),
      strategies: null,
      max_lag: 0,
    };
  });
  runners.sort((a, b) => (a.instance < b.instance ? -1 : a.instance > b.instance ? 1 : a.member_id < b.member_id ? -1 : 1));
  const foreign = runners.filter((r) => !r.runner);
  if (foreign.length > 0) {
    warnings.push(
      `${foreign.length === 1 ? 'a member' : `${foreign.length} members`} of the group ${foreign.length === 1 ? 'has a client id that is' : 'have client ids that are'} not a runner's of this configuration (expected '${s.clientIdPrefix}<instance>'): ${foreign.map((r) => r.client_id).join(', ')}`,
    );
  }
  const outside = s.members.flatMap((m) => m.partitions.filter((p) => p.topic !== s.coordinationTopic || p.partition >= s.shardCount));
  if (outside.length > 0) {
    warnings.push(`the group assigns partitions that are no shard of this configuration: ${[...new Set(outside.map((p) => `${p.topic}[${p.partition}]`))].sort().join(', ')}`);
  }

  // Strategies per shard.
  const byShard = new Map<number, string[]>();
  let active = 0;
  let inactive = 0;
  if (!('error' in s.strategies)) {
    for (const c of s.strategies.configs) {
      if (!c.is_active) {
        inactive++;
        continue;
      }
      active++;
      const shard = shardOf(c.id, s.shardCount);
      (byShard.get(shard) ?? byShard.set(shard, []).get(shard)!).push(c.id);
    }
    for (const ids of byShard.values()) ids.sort();
  }
  const strategiesKnown = !('error' in s.strategies);

  // Positions.
  const committed = new Map(s.committed.map((c) => [c.partition, c]));
  const ticks = [...(s.ticks ?? [])].sort((a, b) => a.partition - b.partition);
  let fromGroup = 0;
  const shards: GroupShard[] = [];
  for (let id = 0; id < s.shardCount; id++) {
    const holders = runners.filter((r) => r.shards.includes(id));
    const c = committed.get(id);
    let position: GroupShard['position'] = 'none';
    let positionError: string | null = null;
    let stored: Map<number, number> | undefined;
    if (c !== undefined && typeof c.metadata === 'string' && c.metadata !== '') {
      try {
        stored = decodeShardPosition(c.metadata);
        position = 'stored';
      } catch (err) {
        position = 'unreadable';
        positionError = (err as Error).message;
      }
    }
    const partitions = ticks.map((t): GroupShardPartition => {
      const own = stored?.get(t.partition);
      const group = s.groupTicksOffsets.get(t.partition);
      const from: PositionFrom = own !== undefined ? 'shard' : group !== undefined ? 'group' : 'start';
      const next = Math.max(own ?? group ?? 0, t.low);
      return { partition: t.partition, next_offset: next, from, high_watermark: t.high, lag: Math.max(0, t.high - next) };
    });
    if (partitions.some((p) => p.from === 'group')) fromGroup++;
    shards.push({
      shard: id,
      runner: holders[0]?.instance ?? null,
      member_id: holders[0]?.member_id ?? null,
      also_held_by: holders.slice(1).map((h) => h.instance),
      position,
      position_error: positionError,
      lag: partitions.reduce((a, p) => a + p.lag, 0),
      partitions,
      strategies: strategiesKnown ? (byShard.get(id) ?? []) : null,
    });
  }
  const doubly = shards.filter((x) => x.also_held_by.length > 0);
  if (doubly.length > 0) warnings.push(`shards named in more than one member's assignment (mid-rebalance): ${doubly.map((x) => x.shard).join(', ')}`);
  const unreadable = shards.filter((x) => x.position === 'unreadable');
  if (unreadable.length > 0) {
    warnings.push(`stored positions unreadable for shards ${unreadable.map((x) => x.shard).join(', ')} (a runner acquiring them starts from the group's offsets of ${s.ticksTopic}): ${unreadable[0]!.position_error}`);
  }
  if (fromGroup > 0) warnings.push(`${fromGroup} shard${fromGroup === 1 ? '' : 's'} with no position of their own in some partitions start from the group's committed offsets of ${s.ticksTopic} (marked 'g')`);

  for (const r of runners) {
    const held = shards.filter((x) => r.shards.includes(x.shard));
    r.max_lag = held.reduce((a, x) => Math.max(a, x.lag), 0);
    r.strategies = strategiesKnown ? held.reduce((a, x) => a + (x.strategies?.length ?? 0), 0) : null;
  }

  return {
    group: s.group,
    coordination_topic: s.coordinationTopic,
    ticks_topic: s.ticksTopic,
    shard_count: s.shardCount,
    state: s.state,
    assignor: s.assignor,
    coordinator: s.coordinator,
    read_at: s.readAt.toISOString(),
    runners,
    shards,
    unassigned: shards.filter((x) => x.runner === null).map((x) => x.shard),
    strategies:
      'error' in s.strategies
        ? { source: s.strategies.source, active: 0, inactive: 0, invalid: 0, error: s.strategies.error }
        : { source: s.strategies.source, active, inactive, invalid: s.strategies.invalid, error: null },
    warnings,
  };
}
