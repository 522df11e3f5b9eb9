import { fmtInt, renderTable } from '../../table.js';
import type { GroupShard, GroupView } from './group-model.js';

/** Why a group has no member, by its state. */
const NO_MEMBERS: Record<string, string> = {
  Empty: ' (every runner has left, or their sessions expired)',
  Dead: ' (the broker does not know the group: no runner has joined it, or it expired)',
};

/** Strategy ids listed per shard in the table (the count is always there; --json has them all). */
const IDS_SHOWN = 6;

/**
 * The deployment view as text: a header (group, state, topics), the runners
 * with the shards each holds, then every shard with its holder (or
 * `unassigned`), lag, position per ticks partition and strategies.
 */
export function formatGroupView(v: GroupView): string {
  const out: string[] = [];
  out.push(
    [
      `group ${v.group}`,
      `state ${v.state}`,
      ...(v.assignor === '' ? [] : [`assignor ${v.assignor}`]),
      `${v.shard_count} shards on ${v.coordination_topic}`,
      `ticks ${v.ticks_topic}`,
      v.read_at,
    ].join('   '),
  );
  const st = v.strategies;
  out.push(
    st.error !== null
      ? `strategies: unreadable from ${st.source}: ${st.error}`
      : `strategies: ${fmtInt(st.active)} active from ${st.source}` +
          (st.inactive + st.invalid > 0 ? ` (${[st.inactive > 0 ? `${fmtInt(st.inactive)} inactive` : '', st.invalid > 0 ? `${fmtInt(st.invalid)} invalid, not run` : ''].filter(Boolean).join(', ')})` : ''),
  );
  for (const w of v.warnings) out.push(`warning: ${w}`);

  out.push('', `Runners (${v.runners.length})`);
  if (v.runners.length === 0) out.push(`  no runner in the group ${v.group}${NO_MEMBERS[v.state] ?? ''}`);
  else {
    out.push(
      renderTable(
        [
          { header: 'runner' },
          { header: 'host' },
          { header: 'shards', align: 'right' },
          { header: 'held' },
          { header: 'strategies', align: 'right' },
          { header: 'max lag', align: 'right' },
          { header: 'member id' },
        ],
        v.runners.map((r) => [
          r.runner ? r.instance : `${r.instance} (not a runner)`,
          r.host,
          fmtInt(r.shards.length),
          r.shards.length === 0 ? '-' : ranges(r.shards),
          r.strategies === null ? '?' : fmtInt(r.strategies),
          fmtInt(r.max_lag),
          r.member_id,
        ]),
      ).trimEnd(),
    );
  }

  const assigned = v.shard_count - v.unassigned.length;
  out.push('', `Shards (${v.shard_count}: ${fmtInt(assigned)} held, ${fmtInt(v.unassigned.length)} unassigned)`);
  const marks = new Set<string>();
  out.push(
    renderTable(
      [
        { header: 'shard', align: 'right' },
        { header: 'runner' },
        { header: 'lag', align: 'right' },
        { header: 'position (partition=next offset)' },
        { header: 'strategies', align: 'right' },
        { header: 'ids' },
      ],
      v.shards.map((s) => [
        String(s.shard),
        s.runner === null ? 'unassigned' : s.also_held_by.length > 0 ? [s.runner, ...s.also_held_by].join(' + ') : s.runner,
        fmtInt(s.lag),
        positionText(s, marks),
        s.strategies === null ? '?' : fmtInt(s.strategies.length),
        s.strategies === null ? '?' : idList(s.strategies),
      ]),
    ).trimEnd(),
  );
  const legend: string[] = [];
  if (marks.has('g')) legend.push(`g: no position of the shard's own there, the group's committed offset of ${v.ticks_topic}`);
  if (marks.has('s')) legend.push('s: no stored position at all there, from the beginning of the partition');
  if (marks.has('!')) legend.push('!: the stored position is unreadable (see the warning)');
  for (const l of legend) out.push(`  ${l}`);
  return out.join('\n') + '\n';
}

/** `0=120 1=98g 2=0s`: the next offset per ticks partition, marked where it is not the shard's own. */
function positionText(s: GroupShard, marks: Set<string>): string {
  if (s.partitions.length === 0) return s.position === 'stored' ? 'stored' : s.position;
  const parts = s.partitions.map((p) => {
    const mark = p.from === 'group' ? 'g' : p.from === 'start' ? 's' : '';
    if (mark !== '') marks.add(mark);
    return `${p.partition}=${p.next_offset}${mark}`;
  });
  if (s.position === 'unreadable') {
    marks.add('!');
    return `! ${parts.join(' ')}`;
  }
  return parts.join(' ');
}

function idList(ids: readonly string[]): string {
  if (ids.length === 0) return '-';
  const shown = ids.slice(0, IDS_SHOWN).join(', ');
  return ids.length > IDS_SHOWN ? `${shown}, +${ids.length - IDS_SHOWN} more` : shown;
}

/** `0-3, 7, 9-10` */
export function ranges(ids: readonly number[]): string {
  const sorted = [...ids].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    out.push(j === i ? String(sorted[i]) : j === i + 1 ? `${sorted[i]}, ${sorted[j]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return out.join(', ');
}
