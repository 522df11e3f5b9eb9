import { parseArgs } from 'node:util';
import { loadServiceConfig } from '../../config/service-config.js';
import { fmtAgeMs, fmtDuration, fmtInt, fmtNum, renderTable } from '../table.js';
import { intOption, UsageError } from '../usage-error.js';

export const STATUS_USAGE = `Usage: strategy-runner status [--url URL | --port N | --config FILE] [options]

Shows the status endpoint of a running strategy-runner as tables: the
service, its threads, its strategies (counters, latency, positions),
rejected strategies, and the Kafka consumer and producer when present.

Options:
  --url URL        base address of the status server (e.g. http://127.0.0.1:9464)
  --port N         status server on 127.0.0.1:N
  --config FILE    service configuration (JSON): status.host and status.port
  --json           print the /status document as JSON
  --watch S        refresh every S seconds until interrupted
  --timeout S      give up on a request after S seconds (default: 5)
  -h, --help       this help
`;

export interface StatusOptions {
  /** ends --watch (for callers in the same process; SIGINT/SIGTERM do the same) */
  signal?: AbortSignal;
}

export async function statusCommand(argv: string[], opts: StatusOptions = {}): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' },
      port: { type: 'string' },
      config: { type: 'string' },
      json: { type: 'boolean', default: false },
      watch: { type: 'string' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(STATUS_USAGE);
    return 0;
  }
  const watch = positiveSeconds('watch', values.watch);
  const timeoutMs = (positiveSeconds('timeout', values.timeout) ?? 5) * 1000;
  const base = baseUrl(values);

  if (watch === undefined) {
    const r = await fetchStatus(base, timeoutMs);
    if (!r.ok) {
      process.stderr.write(`strategy-runner status: ${r.error}\n`);
      return 1;
    }
    process.stdout.write(values.json ? JSON.stringify(r.status, null, 2) + '\n' : formatStatus(r.status, { ready: r.ready, url: base }));
    return 0;
  }

  // --watch: redraw until interrupted; an unreachable endpoint is shown and retried.
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const onAbort = (): void => stop.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted === true) stop.abort();
  const clear = process.stdout.isTTY === true ? '\x1b[2J\x1b[H' : '\n';
  try {
    while (!stop.signal.aborted) {
      const r = await fetchStatus(base, timeoutMs);
      const head = `every ${watch} s, ${new Date().toISOString()} (Ctrl-C to stop)\n\n`;
      const body = !r.ok
        ? `strategy-runner status: ${r.error}\n`
        : values.json
          ? JSON.stringify(r.status, null, 2) + '\n'
          : formatStatus(r.status, { ready: r.ready, url: base });
      if (stop.signal.aborted) break;
      process.stdout.write(clear + head + body);
      await sleep(watch * 1000, stop.signal);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    opts.signal?.removeEventListener('abort', onAbort);
  }
  return 0;
}

function positiveSeconds(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a number of seconds > 0, got '${value}'`);
  return n;
}

/** The status server's base address from --url, --port or the configuration's status section. */
function baseUrl(v: { url?: string | undefined; port?: string | undefined; config?: string | undefined }): string {
  if (v.url !== undefined && v.port !== undefined) throw new UsageError('give --url or --port, not both');
  if (v.url !== undefined) {
    let u: URL;
    try {
      u = new URL(v.url.includes('://') ? v.url : `http://${v.url}`);
    } catch {
      throw new UsageError(`--url is not a URL: '${v.url}'`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`--url must be http:// or https://, got '${v.url}'`);
    // Accept the address of an endpoint too (…/status, …/readyz).
    const path = u.pathname.replace(/\/+$/, '').replace(/\/(status|readyz|healthz|metrics)$/, '');
    return `${u.protocol}//${u.host}${path}`;
  }
  const port = intOption('port', v.port, 1);
  if (port !== undefined) {
    if (port > 65_535) throw new UsageError(`--port must be at most 65535, got '${v.port}'`);
    return `http://127.0.0.1:${port}`;
  }
  const c = loadServiceConfig(v.config);
  if (c.status.port === null || c.status.port === 0) {
    throw new UsageError(
      v.config === undefined
        ? 'where is the status server? give --url URL or --port N (or --config FILE with status.port)'
        : `the configuration sets no fixed status.port (it is ${String(c.status.port)}): give --url URL or --port N`,
    );
  }
  // A server bound to every interface is reached on loopback.
  const host = c.status.host === '0.0.0.0' || c.status.host === '::' ? '127.0.0.1' : c.status.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${c.status.port}`;
}

type FetchResult = { ok: true; status: unknown; ready: boolean | null } | { ok: false; error: string };

async function fetchStatus(base: string, timeoutMs: number): Promise<FetchResult> {
  const url = `${base}/status`;
  const readyz = fetch(`${base}/readyz`, { signal: AbortSignal.timeout(timeoutMs) }).then(
    async (r) => {
      await r.body?.cancel();
      return r.status === 200 ? true : r.status === 503 ? false : null;
    },
    () => null,
  );
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  } catch (err) {
    await readyz;
    return { ok: false, error: `cannot reach ${url}: ${describeFetchError(err, timeoutMs)}` };
  }
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    await readyz;
    return { ok: false, error: `reading ${url} failed: ${describeFetchError(err, timeoutMs)}` };
  }
  const ready = await readyz;
  if (res.status !== 200) return { ok: false, error: `${url} answered HTTP ${res.status}: ${text.slice(0, 200)}` };
  try {
    return { ok: true, status: JSON.parse(text) as unknown, ready };
  } catch {
    return { ok: false, error: `${url} did not return JSON: ${text.slice(0, 200)}` };
  }
}

function describeFetchError(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`;
  const cause = e?.cause;
  if (cause?.code !== undefined) return `${cause.code}${cause.message !== undefined ? ` (${cause.message})` : ''}`;
  return e?.message ?? String(err);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

// ---------------------------------------------------------------- formatting

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const objs = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);
const str = (v: unknown): string => (v === null || v === undefined ? '-' : typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v));
const yesNo = (v: unknown): string => (v === true ? 'yes' : v === false ? 'no' : '-');

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
export function formatStatus(json: unknown, meta: FormatMeta = {}): string {
  if (!isObj(json)) return `unexpected status document: ${str(json)}\n`;
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
  const totals = isObj(json['totals']) ? json['totals'] : undefined;
  const routing = isObj(json['routing']) ? json['routing'] : undefined;
  if (totals !== undefined) {
    out.push(
      `ticks ${fmtInt(totals['ticks'])}   signals ${fmtInt(totals['signals'])}   tick errors ${fmtInt(totals['tick_errors'])}   ` +
        `unrouted ${fmtInt(totals['unrouted_ticks'])}   rounds ${fmtInt(totals['rounds'])}   ` +
        `fills ${fmtInt(totals['fills_applied'])} applied, ${fmtInt(totals['fills_duplicate'])} duplicate, ${fmtInt(totals['fills_unknown_strategy'])} unknown strategy`,
    );
  }
  if (routing !== undefined) out.push(`routing: ${fmtInt(routing['instruments'])} instruments, ${fmtInt(routing['strategies'])} strategies`);
  const readiness = isObj(json['readiness']) ? json['readiness'] : undefined;
  if (readiness !== undefined) {
    for (const r of Array.isArray(readiness['reasons']) ? readiness['reasons'] : []) out.push(`NOT READY: ${str(r)}`);
    for (const w of Array.isArray(readiness['warnings']) ? readiness['warnings'] : []) out.push(`warning: ${str(w)}`);
  }

  const threads = objs(json['threads']);
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

  const strategies = threads.flatMap((t) => objs(t['strategies']).map((s) => ({ s, thread: t['thread'] })));
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
          const lat = isObj(s['latency_us']) ? s['latency_us'] : {};
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

  const rejected = objs(json['rejected']);
  const configErrors = objs(json['config_errors']);
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
    const counters = consumer['counters'];
    if (isObj(counters)) {
      out.push('  ' + Object.entries(counters).map(([k, v]) => `${k.replace(/([A-Z])/g, ' $1').toLowerCase()} ${fmtInt(v)}`).join(', '));
    }
    const parts = objs(consumer['partitions']);
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
          .map(([k, v]) => `${k.replace(/([A-Z])/g, ' $1').toLowerCase()} ${fmtInt(v)}`)
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
      `in flight ${fmtInt(producer['in_flight_signals'] ?? producer['in_flight'])}`,
      `acknowledged ${fmtInt(producer['acknowledged_signals'] ?? producer['acknowledged'])}`,
      `dead-lettered ${fmtInt(producer['dead_lettered'])}`,
    );
    out.push('  ' + line.join('   '));
    if (producer['last_error'] !== null && producer['last_error'] !== undefined) out.push(`  last error: ${oneLine(str(producer['last_error']))}`);
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
