import { fmtAgeMs, fmtDuration, fmtInt, fmtNum, renderTable } from '../../table.js';
import type { ReceivedStatusDocument } from '../../../status/status-document.js';
import { isObj, items, objs, section, str, yesNo } from './model.js';

export interface FormatMeta {
  /** from /readyz: true (200), false (503), null (no answer) */
  ready?: boolean | null;
  /** the base address shown in the header */
  url?: string;
}

/**
 * The /status document as readable text: header, threads, strategies,
 * rejected strategies and configuration errors, then the Kafka consumer and
 * producer and replay progress when present. Tolerates missing fields ('-').
 */
export function formatStatus(received: unknown, meta: FormatMeta = {}): string {
  if (!isObj(received)) return `unexpected status document: ${str(received)}\n`;
  const json = received as ReceivedStatusDocument;
  const out: string[] = [];

  const header = [
    `${str(json['service'] ?? 'strategy-runner')}`,
    `state ${str(json['state'])}`,
    ...(json['service_state'] === undefined ? [] : [`service ${str(json['service_state'])}`]),
    `uptime ${fmtDuration(json['uptime_s'])}`,
    `ready ${meta.ready === undefined || meta.ready === null ? 'unknown' : yesNo(meta.ready)}`,
  ];
  if (json['pid'] !== undefined) header.push(`pid ${str(json['pid'])}`);
  if (meta.url !== undefined) header.push(meta.url);
  out.push(header.join('   '));
  const totals = section(json['totals']);
  const routing = section(json['routing']);
  if (totals !== undefined) {
    out.push(
      `ticks ${fmtInt(totals['ticks'])}   signals ${fmtInt(totals['signals'])}   tick errors ${fmtInt(totals['tick_errors'])}   ` +
        `unrouted ${fmtInt(totals['unrouted_ticks'])}   rounds ${fmtInt(totals['rounds'])}   ` +
        `fills ${fmtInt(totals['fills_applied'])} applied, ${fmtInt(totals['fills_duplicate'])} duplicate, ${fmtInt(totals['fills_unknown_strategy'])} unknown strategy`,
    );
  }
  if (routing !== undefined) out.push(`routing: ${fmtInt(routing['instruments'])} instruments, ${fmtInt(routing['strategies'])} strategies`);
  const readiness = section(json['readiness']);
  if (readiness !== undefined) {
    for (const r of Array.isArray(readiness['reasons']) ? readiness['reasons'] : []) out.push(`NOT READY: ${str(r)}`);
    for (const w of Array.isArray(readiness['warnings']) ? readiness['warnings'] : []) out.push(`warning: ${str(w)}`);
  }

  const threads = items(json['threads']);
  out.push('', `Threads (${threads.length})`);
  if (threads.length === 0) out.push('  none');
  else {
    out.push(
      renderTable(
        [
          { header: 'thread', align: 'right' },
          { header: 'thread id', align: 'right' },
          { header: 'state' },
          { header: 'strategies', align: 'right' },
          { header: 'ticks in', align: 'right' },
          { header: 'signals out', align: 'right' },
          { header: 'errors', align: 'right' },
          { header: 'queue', align: 'right' },
          { header: 'heartbeat age', align: 'right' },
          { header: 'heap MB', align: 'right' },
        ],
        threads.map((t) => [
          fmtInt(t['thread']),
          fmtInt(t['thread_id']),
          str(t['state']),
          Array.isArray(t['strategies']) ? fmtInt(t['strategies'].length) : '-',
          fmtInt(t['ticks_in']),
          fmtInt(t['signals_out']),
          fmtInt(t['errors']),
          fmtInt(t['queue_depth']),
          fmtAgeMs(t['last_heartbeat_age_ms']),
          typeof t['heap_used_bytes'] === 'number' ? fmtNum(t['heap_used_bytes'] / 1048576, 1) : '-',
        ]),
      ).trimEnd(),
    );
    for (const t of threads) if (t['failure'] !== null && t['failure'] !== undefined) out.push(`  thread ${str(t['thread'])} failed: ${str(t['failure'])}`);
  }

  const strategies = threads.flatMap((t) => items(t['strategies']).map((s) => ({ s, thread: t['thread'] })));
  out.push('', `Strategies (${strategies.length})`);
  if (strategies.length === 0) out.push('  none running');
  else {
    out.push(
      renderTable(
        [
          { header: 'id' },
          { header: 'type' },
          { header: 'thread', align: 'right' },
          { header: 'state' },
          { header: 'ticks in', align: 'right' },
          { header: 'signals', align: 'right' },
          { header: 'errors', align: 'right' },
          { header: 'p50 µs', align: 'right' },
          { header: 'p99 µs', align: 'right' },
          { header: 'position' },
        ],
        strategies.map(({ s, thread }) => {
          const lat = section(s['latency_us']) ?? {};
          const hasLat = typeof lat['count'] !== 'number' || lat['count'] > 0;
          return [
            str(s['id']),
            str(s['type']),
            fmtInt(thread),
            str(s['state']),
            fmtInt(s['ticks_in']),
            fmtInt(s['signals_out']),
            fmtInt(s['errors']),
            hasLat ? fmtMicros(lat['p50']) : '-',
            hasLat ? fmtMicros(lat['p99']) : '-',
            positionSummary(s['portfolio']),
          ];
        }),
      ).trimEnd(),
    );
    const failing = strategies.filter(({ s }) => s['last_error'] !== null && s['last_error'] !== undefined);
    if (failing.length > 0) {
      out.push('  last errors:');
      for (const { s } of failing) out.push(`    ${str(s['id'])}: ${oneLine(str(s['last_error']))}`);
    }
  }

  const rejected = items(json['rejected']);
  const configErrors = items(json['config_errors']);
  if (rejected.length > 0) {
    out.push('', `Rejected strategies (${rejected.length})`);
    out.push(
      renderTable(
        [{ header: 'id' }, { header: 'code' }, { header: 'error' }],
        rejected.map((r) => [str(r['id']), str(r['code']), oneLine(str(r['error']))]),
      ).trimEnd(),
    );
  }
  if (configErrors.length > 0) {
    out.push('', `Configuration errors (${configErrors.length})`);
    out.push(
      renderTable(
        [{ header: 'code' }, { header: 'error' }],
        configErrors.map((r) => [str(r['code']), oneLine(str(r['error']))]),
      ).trimEnd(),
    );
  }

  const consumer = json['consumer'];
  if (isObj(consumer)) {
    out.push('', 'Consumer');
    const line = [`  state ${str(consumer['state'])}`];
    if (consumer['ready'] !== undefined) line.push(`ready ${yesNo(consumer['ready'])}`);
    if (consumer['broker_reachable'] !== undefined) {
      const since = consumer['broker_unreachable_since'];
      line.push(`broker reachable ${yesNo(consumer['broker_reachable'])}${typeof since === 'string' ? ` (no answer since ${since})` : ''}`);
    }
    if (consumer['fills_caught_up'] !== undefined) line.push(`fills caught up ${yesNo(consumer['fills_caught_up'])}`);
    if (consumer['queued_batches'] !== undefined) line.push(`queued batches ${fmtInt(consumer['queued_batches'])}`);
    out.push(line.join('   '));
    const fetch = consumer['fetch'];
    if (isObj(fetch) && typeof fetch['polls'] === 'number' && typeof fetch['empty_polls'] === 'number' && typeof fetch['messages'] === 'number') {
      const rounds = fetch['polls'] - fetch['empty_polls'];
      out.push(`  fetch: ${fmtInt(fetch['messages'])} messages in ${fmtInt(rounds)} rounds (${rounds > 0 ? fmtInt(Math.round(fetch['messages'] / rounds)) : '-'} a round), ${fmtInt(fetch['empty_polls'])} empty polls, ${fmtInt(fetch['wakeups'])} wake-ups, ${fmtInt(fetch['errors'])} errors`);
    }
    const counters = consumer['counters'];
    if (isObj(counters)) {
      out.push('  ' + Object.entries(counters).map(([k, v]) => `${k.replace(/([A-Z])/g, ' $1').replace(/_/g, ' ').toLowerCase()} ${fmtInt(v)}`).join(', '));
    }
    const parts = items(consumer['partitions']);
    if (parts.length > 0) {
      out.push(
        renderTable(
          [
            { header: 'topic' },
            { header: 'partition', align: 'right' },
            { header: 'next offset', align: 'right' },
            { header: 'high watermark', align: 'right' },
            { header: 'lag', align: 'right' },
            { header: 'committed', align: 'right' },
            { header: 'last batch age', align: 'right' },
          ],
          parts.map((p) => [
            str(p['topic']),
            fmtInt(p['partition']),
            fmtInt(p['next_offset']),
            fmtInt(p['high_watermark']),
            fmtInt(p['lag']),
            fmtInt(p['committed_offset']),
            fmtAgeMs(p['last_batch_age_ms']),
          ]),
        ).trimEnd(),
      );
    } else out.push('  no partitions yet');
  }

  const pipeline = json['pipeline'];
  if (isObj(pipeline)) {
    out.push('', 'Pipeline');
    out.push(
      '  ' +
        Object.entries(pipeline)
          .filter(([, v]) => typeof v === 'number')
          .map(([k, v]) => `${k.replace(/([A-Z])/g, ' $1').replace(/_/g, ' ').toLowerCase()} ${fmtInt(v)}`)
          .join(', '),
    );
  }

  const producer = json['producer'];
  if (isObj(producer)) {
    out.push('', 'Producer');
    const line = [];
    // `connected`: the client is started, not that the broker answers (that is the consumer's `broker reachable`).
    if (producer['connected'] !== undefined) line.push(`client started ${yesNo(producer['connected'])}`);
    if (producer['healthy'] !== undefined) line.push(`acknowledging ${yesNo(producer['healthy'])}`);
    line.push(
      `in flight ${fmtInt(producer['in_flight_signals'])}`,
      `acknowledged ${fmtInt(producer['acknowledged_signals'])}`,
      `dead-lettered ${fmtInt(producer['dead_lettered'])}`,
    );
    out.push('  ' + line.join('   '));
    if (producer['last_error'] !== null && producer['last_error'] !== undefined) out.push(`  last error: ${oneLine(str(producer['last_error']))}`);
  }

  const watch = json['config_watch'];
  if (isObj(watch)) {
    out.push('', 'Configuration watch');
    const line = [`  ${str(watch['kind'])} ${str(watch['state'])} since ${str(watch['since'])}`, `reloads ${fmtInt(watch['reloads'])}`, `failures ${fmtInt(watch['failures'])}`];
    if (watch['last_reload_at'] !== null && watch['last_reload_at'] !== undefined) line.push(`last reload ${str(watch['last_reload_at'])} (${str(watch['last_reload_reason'])})`);
    out.push(line.join('   '));
    const err = watch['last_error'];
    if (isObj(err)) out.push(`  last error ${str(err['at'])}: [${str(err['code'])}] ${oneLine(str(err['message']))}`);
  }

  const replay = json['replay'];
  if (isObj(replay)) {
    out.push('', 'Replay');
    const p = replay['progress'];
    const line = [];
    if (replay['ticks_file'] !== undefined) line.push(`file ${str(replay['ticks_file'])}`);
    if (isObj(p) && typeof p['done'] === 'number' && typeof p['total'] === 'number' && p['total'] > 0) {
      line.push(`progress ${((100 * p['done']) / p['total']).toFixed(1)}%`);
    } else if (typeof p === 'number') line.push(`progress ${(100 * p).toFixed(1)}%`);
    if (replay['malformed_lines'] !== undefined) line.push(`malformed lines ${fmtInt(replay['malformed_lines'])}`);
    out.push('  ' + (line.length > 0 ? line.join('   ') : 'running'));
  }
  return out.join('\n') + '\n';
}

/** Open positions as 'TOKEN +Q @AVG', then realised P&L; 'flat' when nothing is open. */
export function positionSummary(portfolio: unknown): string {
  if (!isObj(portfolio)) return '-';
  const open = objs(portfolio['positions']).filter((p) => typeof p['quantity'] === 'number' && p['quantity'] !== 0);
  const parts = open.slice(0, 3).map((p) => {
    const q = p['quantity'] as number;
    return `${str(p['instrument_token'])} ${q > 0 ? '+' : ''}${fmtInt(q)} @${fmtNum(p['avg_price'], 2)}`;
  });
  if (open.length > 3) parts.push(`+${open.length - 3} more`);
  const text = parts.length > 0 ? parts.join(', ') : 'flat';
  const pnl = portfolio['realized_pnl'];
  return typeof pnl === 'number' && pnl !== 0 ? `${text}; pnl ${pnl > 0 ? '+' : ''}${fmtNum(pnl, 2)}` : text;
}

/** Latency in µs: one decimal below 100 (onTick is often a few µs), else whole numbers. */
function fmtMicros(v: unknown): string {
  return typeof v === 'number' && v < 100 ? fmtNum(v, 1) : fmtInt(v);
}

function oneLine(s: string): string {
  const l = s.replace(/\s*\n\s*/g, ' ');
  return l.length > 120 ? `${l.slice(0, 117)}...` : l;
}
