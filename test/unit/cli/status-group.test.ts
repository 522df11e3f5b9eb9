import { describe, expect, it } from 'vitest';
import { assembleGroupView, type GroupSnapshot, type RawMember } from '../../../src/cli/commands/status/group-model.js';
import { formatGroupView, ranges } from '../../../src/cli/commands/status/group-render.js';
import { shardOf } from '../../../src/routing/shard-of.js';
import { encodeShardPosition } from '../../../src/transport/kafka/shards/shard-position.js';

const COORD = 'sr.shards';
const TICKS = 'market.ticks';

function member(instance: string, shards: number[], extra: Partial<RawMember> = {}): RawMember {
  return {
    memberId: `strategy-runner/${instance}-0000`,
    clientId: `strategy-runner/${instance}`,
    clientHost: '/10.0.0.5',
    partitions: shards.map((partition) => ({ topic: COORD, partition })),
    ...extra,
  };
}

const IDS = ['mom-a', 'mom-b', 'mr-c', 'mr-d', 'x-e', 'x-f', 'x-g', 'x-h', 'x-i'];

function snapshot(over: Partial<GroupSnapshot> = {}): GroupSnapshot {
  return {
    group: 'sr',
    coordinationTopic: COORD,
    ticksTopic: TICKS,
    shardCount: 4,
    clientIdPrefix: 'strategy-runner/',
    state: 'Stable',
    assignor: 'cooperative-sticky',
    coordinator: '10.0.0.1:9092 (id 1)',
    members: [member('r2', [1, 3]), member('r1', [0])],
    coordinationPartitions: 4,
    committed: [
      { partition: 0, offset: 30, metadata: encodeShardPosition(new Map([[0, 10], [1, 20]])) },
      { partition: 1, offset: 5, metadata: encodeShardPosition(new Map([[0, 5]])) },
      { partition: 2, offset: -1001, metadata: null },
      { partition: 3, offset: 7, metadata: 'garbage' },
    ],
    groupTicksOffsets: new Map([[1, 8]]),
    ticks: [
      { partition: 1, low: 0, high: 25 },
      { partition: 0, low: 3, high: 12 },
    ],
    strategies: { source: 'PostgreSQL postgres://db/x', configs: [...IDS.map((id) => ({ id, is_active: true })), { id: 'off', is_active: false }], invalid: 2 },
    readAt: new Date('2026-12-06T10:00:00.000Z'),
    ...over,
  };
}

const expectedIn = (shard: number): string[] => IDS.filter((id) => shardOf(id, 4) === shard).sort();

describe('status --group: assembleGroupView', () => {
  it('names each runner by its client id, gives every shard its holder, position, lag and strategies', () => {
    const v = assembleGroupView(snapshot());
    expect(v.runners.map((r) => [r.instance, r.host, r.shards, r.runner])).toEqual([
      ['r1', '10.0.0.5', [0], true],
      ['r2', '10.0.0.5', [1, 3], true],
    ]);
    expect(v.shards.map((s) => s.runner)).toEqual(['r1', 'r2', null, 'r2']);
    expect(v.unassigned).toEqual([2]);
    // Shard 0: its own position in both partitions (partition 0 below the low watermark starts at the low watermark).
    expect(v.shards[0]!.position).toBe('stored');
    expect(v.shards[0]!.partitions).toEqual([
      { partition: 0, next_offset: 10, from: 'shard', high_watermark: 12, lag: 2 },
      { partition: 1, next_offset: 20, from: 'shard', high_watermark: 25, lag: 5 },
    ]);
    expect(v.shards[0]!.lag).toBe(7);
    // Shard 1: its own in partition 0, the group's offset in partition 1 (not in its position).
    expect(v.shards[1]!.partitions.map((p) => [p.next_offset, p.from, p.lag])).toEqual([
      [5, 'shard', 7],
      [8, 'group', 17],
    ]);
    // Shard 2: never committed: the beginning (the low watermark) and the group's offset.
    expect(v.shards[2]!.position).toBe('none');
    expect(v.shards[2]!.partitions.map((p) => [p.next_offset, p.from])).toEqual([
      [3, 'start'],
      [8, 'group'],
    ]);
    // Shard 3: unreadable metadata: as a runner would, from the group's offsets.
    expect(v.shards[3]!.position).toBe('unreadable');
    expect(v.shards[3]!.position_error).toContain("shard position 'garbage' unreadable");
    for (let s = 0; s < 4; s++) expect(v.shards[s]!.strategies).toEqual(expectedIn(s));
    expect(v.strategies).toEqual({ source: 'PostgreSQL postgres://db/x', active: IDS.length, inactive: 1, invalid: 2, error: null });
    const r2 = v.runners.find((r) => r.instance === 'r2')!;
    expect(r2.strategies).toBe(expectedIn(1).length + expectedIn(3).length);
    expect(r2.max_lag).toBe(Math.max(v.shards[1]!.lag, v.shards[3]!.lag));
    expect(v.warnings).toEqual([
      expect.stringMatching(/^stored positions unreadable for shards 3 /),
      `3 shards with no position of their own in some partitions start from the group's committed offsets of ${TICKS} (marked 'g')`,
    ]);
  });

  it('warns about a group in rebalance, a member that is not a runner, a shard count that does not match, and partitions that are no shard', () => {
    const v = assembleGroupView(
      snapshot({
        state: 'PreparingRebalance',
        coordinationPartitions: 6,
        members: [member('r1', [0, 1, 2, 3, 5]), { memberId: 'other-1', clientId: 'other', clientHost: '/10.0.0.9', partitions: [{ topic: 'x', partition: 0 }, { topic: COORD, partition: 1 }] }],
      }),
    );
    expect(v.runners.map((r) => [r.instance, r.runner])).toEqual([
      ['other', false],
      ['r1', true],
    ]);
    expect(v.shards[1]!.runner).toBe('other');
    expect(v.shards[1]!.also_held_by).toEqual(['r1']);
    const w = v.warnings.join('\n');
    expect(w).toContain('has 6 partitions but kafka.shards.count is 4');
    expect(w).toContain('the group is PreparingRebalance');
    expect(w).toContain("a member of the group has a client id that is not a runner's of this configuration (expected 'strategy-runner/<instance>'): other");
    expect(w).toContain(`the group assigns partitions that are no shard of this configuration: ${COORD}[5], x[0]`);
    expect(w).toContain('shards named in more than one member');
  });

  it('without the topics, members or strategies: every shard unassigned, nothing to compute, saying why', () => {
    const v = assembleGroupView(
      snapshot({ state: 'Dead', assignor: '', members: [], coordinationPartitions: null, committed: [], ticks: null, strategies: { source: 'PostgreSQL x', error: '[DATABASE_UNAVAILABLE] refused' } }),
    );
    expect(v.runners).toEqual([]);
    expect(v.unassigned).toEqual([0, 1, 2, 3]);
    expect(v.shards.every((s) => s.partitions.length === 0 && s.lag === 0 && s.strategies === null && s.position === 'none')).toBe(true);
    expect(v.strategies.error).toBe('[DATABASE_UNAVAILABLE] refused');
    expect(v.warnings).toEqual([expect.stringContaining(`the coordination topic ${COORD} does not exist`), expect.stringContaining(`the ticks topic ${TICKS} does not exist`)]);
  });
});

describe('status --group: formatGroupView', () => {
  const cells = (line: string): string[] => line.trim().split(/\s{2,}/);

  it('prints the header, a row per runner and per shard, and the legend of the marks', () => {
    const text = formatGroupView(assembleGroupView(snapshot()));
    const lines = text.split('\n');
    expect(lines[0]).toBe(`group sr   state Stable   assignor cooperative-sticky   4 shards on ${COORD}   ticks ${TICKS}   2026-12-06T10:00:00.000Z`);
    expect(lines[1]).toBe(`strategies: ${IDS.length} active from PostgreSQL postgres://db/x (1 inactive, 2 invalid, not run)`);
    expect(text).toContain('Runners (2)');
    expect(cells(lines.find((l) => cells(l)[0] === 'r2')!).slice(0, 4)).toEqual(['r2', '10.0.0.5', '2', '1, 3']);
    expect(text).toContain('Shards (4: 3 held, 1 unassigned)');
    const row = (shard: number): string[] => cells(lines.find((l) => /^\s+\d+\s/.test(l) && cells(l)[0] === String(shard))!);
    expect(row(0).slice(0, 4)).toEqual(['0', 'r1', '7', '0=10 1=20']);
    expect(row(1).slice(0, 4)).toEqual(['1', 'r2', '24', '0=5 1=8g']);
    expect(row(2).slice(0, 4)).toEqual(['2', 'unassigned', '26', '0=3s 1=8g']);
    expect(row(3)[3]).toBe('! 0=3s 1=8g');
    for (let s = 0; s < 4; s++) expect(row(s)[4]).toBe(String(expectedIn(s).length));
    expect(text).toContain(`  g: no position of the shard's own there, the group's committed offset of ${TICKS}`);
    expect(text).toContain('  s: no stored position at all there, from the beginning of the partition');
    expect(text).toContain('  !: the stored position is unreadable (see the warning)');
  });

  it('says there is no runner, and why by the group state; strategies unknown are ?', () => {
    const text = formatGroupView(assembleGroupView(snapshot({ state: 'Empty', assignor: '', members: [], strategies: { source: 'PostgreSQL x', error: '[DATABASE_UNAVAILABLE] refused' } })));
    expect(text.split('\n')[0]).toBe(`group sr   state Empty   4 shards on ${COORD}   ticks ${TICKS}   2026-12-06T10:00:00.000Z`);
    expect(text).toContain('strategies: unreadable from PostgreSQL x: [DATABASE_UNAVAILABLE] refused');
    expect(text).toContain('Runners (0)\n  no runner in the group sr (every runner has left, or their sessions expired)');
    expect(text).toContain('Shards (4: 0 held, 4 unassigned)');
    const rows = text.split('\n').filter((l) => /^\s+\d\s+unassigned/.test(l));
    expect(rows).toHaveLength(4);
    expect(rows.every((l) => cells(l)[4] === '?' && cells(l)[5] === '?')).toBe(true);
  });

  it('lists at most six strategy ids of a shard, and every holder of a shard named twice', () => {
    const many = Array.from({ length: 40 }, (_, i) => `s-${i}`);
    const v = assembleGroupView(
      snapshot({ shardCount: 1, coordinationPartitions: 1, members: [member('r1', [0]), member('r2', [0])], committed: [], strategies: { source: 'f', configs: many.map((id) => ({ id, is_active: true })), invalid: 0 } }),
    );
    const row = formatGroupView(v).split('\n').find((l) => /^\s+0\s/.test(l))!;
    expect(cells(row)[1]).toBe('r1 + r2');
    expect(cells(row)[4]).toBe('40');
    expect(cells(row)[5]).toBe(`${[...many].sort().slice(0, 6).join(', ')}, +34 more`);
  });

  it('ranges: consecutive shards collapse', () => {
    expect(ranges([])).toBe('');
    expect(ranges([10, 9, 0, 1, 2, 3, 7])).toBe('0-3, 7, 9, 10');
    expect(ranges([5])).toBe('5');
  });
});
