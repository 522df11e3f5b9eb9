import { describe, expect, it } from 'vitest';
import { formatStatus, positionSummary } from '../../../../../src/cli/commands/status/render.js';
import { fmtAgeMs, fmtDuration, fmtInt, renderTable } from '../../../../../src/cli/table.js';

/** A /status document as the runtime serves it, plus the consumer and producer sections of a live run. */
const FIXTURE = {
  service: 'strategy-runner',
  pid: 4242,
  uptime_s: 3723,
  state: 'running',
  threads: [
    {
      thread: 0,
      thread_id: 1,
      state: 'ready',
      strategies: [
        {
          id: 'mom-nifty',
          type: 'SimpleMomentumStrategy',
          state: 'running',
          instruments: 2,
          ticks_in: 1234567,
          signals_out: 42,
          errors: 0,
          consecutive_errors: 0,
          fills_applied: 3,
          last_error: null,
          latency_us: { count: 1234567, sum: 1, p50: 2.83, p90: 5.1, p99: 12.4, max: 900 },
          portfolio: {
            cash: -23000,
            realized_pnl: 150.5,
            fill_count: 3,
            positions: [
              { instrument_token: 256265, quantity: 1, avg_price: 23450.35, realized_pnl: 150.5 },
              { instrument_token: 260105, quantity: 0, avg_price: 0, realized_pnl: 0 },
            ],
          },
        },
        {
          id: 'mr-bank',
          type: 'MeanReversionStrategy',
          state: 'running',
          instruments: 1,
          ticks_in: 99,
          signals_out: 0,
          errors: 0,
          consecutive_errors: 0,
          fills_applied: 0,
          last_error: null,
          latency_us: { count: 0, sum: 0, p50: 0, p90: 0, p99: 0, max: 0 },
          portfolio: { cash: 0, realized_pnl: 0, fill_count: 0, positions: [] },
        },
      ],
      ticks_in: 1234666,
      signals_out: 42,
      errors: 0,
      queue_depth: 2,
      last_heartbeat_age_ms: 120,
      heap_used_bytes: 12 * 1048576 + 524288,
      failure: null,
    },
    {
      thread: 1,
      thread_id: 2,
      state: 'failed',
      strategies: [
        {
          id: 'thrower',
          type: 'Thrower',
          state: 'failed',
          instruments: 1,
          ticks_in: null,
          signals_out: null,
          errors: 17,
          consecutive_errors: 17,
          fills_applied: null,
          last_error: 'boom\n  at onTick',
          latency_us: null,
          portfolio: { cash: 0, realized_pnl: -20, fill_count: 2, positions: [{ instrument_token: 7, quantity: -5, avg_price: 101, realized_pnl: -20 }] },
        },
      ],
      ticks_in: null,
      signals_out: null,
      errors: null,
      queue_depth: 0,
      last_heartbeat_age_ms: 65_000,
      heap_used_bytes: null,
      failure: 'thread exited with code 1',
    },
  ],
  rejected: [{ id: 'bad', code: 'STRATEGY_TYPE_UNKNOWN', error: "strategy_type 'Nope' is not registered" }],
  config_errors: [{ code: 'STRATEGY_CONFIG_INVALID', error: 'entry 4: instruments: required' }],
  totals: { rounds: 10, ticks: 1234666, unrouted_ticks: 5, signals: 42, tick_errors: 17, fills_applied: 5, fills_duplicate: 1, fills_unknown_strategy: 0 },
  routing: { instruments: 3, strategies: 3 },
  consumer: {
    state: 'consuming',
    ready: true,
    fills_caught_up: true,
    assignment: [{ topic: 'market.ticks', partition: 0 }],
    partitions: [
      { topic: 'market.ticks', partition: 0, next_offset: 1500000, high_watermark: 1500250, lag: 250, delivered_offset: 1499000, committed_offset: 1498000, last_batch_age_ms: 8 },
      { topic: 'orders.filled', partition: 0, next_offset: 5, high_watermark: 5, lag: 0, delivered_offset: null, committed_offset: null, last_batch_age_ms: null },
    ],
    queued_batches: 1,
    counters: { ticks: 1500000, fills: 5, badTicks: 2, badFills: 0, commits: 30, commitErrors: 0 },
  },
  pipeline: { ticks: 1500000, rounds: 3000, signals: 42, signalsDelivered: 39, tickErrors: 17, signalsByStrategy: { 'mom-nifty': 42 } },
  producer: { connected: true, in_flight_signals: 3, acknowledged_signals: 39, dead_lettered: 2, last_error: null },
};

const lines = (text: string): string[] => text.split('\n');
const rowOf = (text: string, first: string): string => {
  const l = lines(text).find((x) => x.trim().split(/\s{2,}/)[0] === first);
  if (l === undefined) throw new Error(`no row starting with ${first} in\n${text}`);
  return l;
};

describe('formatStatus', () => {
  const text = formatStatus(FIXTURE, { ready: true, url: 'http://127.0.0.1:9464' });

  it('starts with a header: state, uptime, readiness, pid, url, totals', () => {
    const [head, totals, routing] = lines(text);
    expect(head).toBe('strategy-runner   state running   uptime 1h 02m 03s   ready yes   pid 4242   http://127.0.0.1:9464');
    expect(totals).toContain('ticks 1,234,666');
    expect(totals).toContain('signals 42');
    expect(totals).toContain('tick errors 17');
    expect(routing).toBe('routing: 3 instruments, 3 strategies');
    expect(formatStatus(FIXTURE, { ready: false })).toContain('ready no');
    expect(formatStatus({ ...FIXTURE, service_state: 'draining' })).toContain('state running   service draining   uptime');
    expect(formatStatus(FIXTURE)).toContain('ready unknown');
  });

  it('prints one row per thread with counters right-aligned under their headers', () => {
    expect(text).toContain('Threads (2)');
    const header = lines(text).find((l) => l.includes('thread id') && l.includes('heap MB'))!;
    expect(header).toMatch(/thread\s+thread id\s+state\s+strategies\s+ticks in\s+signals out\s+errors\s+queue\s+heartbeat age\s+heap MB/);
    const t0 = rowOf(text, '0');
    expect(t0.trim().split(/\s{2,}/)).toEqual(['0', '1', 'ready', '2', '1,234,666', '42', '0', '2', '120 ms', '12.5']);
    const t1 = rowOf(text, '1');
    expect(t1.trim().split(/\s{2,}/)).toEqual(['1', '2', 'failed', '1', '-', '-', '-', '0', '1m 05s', '-']);
    // Right-aligned: each number ends where its header ends.
    const end = (l: string, s: string): number => l.indexOf(s) + s.length;
    expect(end(t0, '1,234,666')).toBe(end(header, 'ticks in'));
    expect(end(t1, '-')).toBe(end(header, 'ticks in'));
    expect(end(t0, '12.5')).toBe(end(header, 'heap MB'));
    expect(text).toContain('thread 1 failed: thread exited with code 1');
  });

  it('prints one row per strategy with its thread, counters, latency and position', () => {
    expect(text).toContain('Strategies (3)');
    expect(rowOf(text, 'mom-nifty').trim().split(/\s{2,}/)).toEqual([
      'mom-nifty', 'SimpleMomentumStrategy', '0', 'running', '1,234,567', '42', '0', '2.8', '12.4', '256265 +1 @23,450.35; pnl +150.50',
    ]);
    expect(rowOf(text, 'mr-bank').trim().split(/\s{2,}/)).toEqual(['mr-bank', 'MeanReversionStrategy', '0', 'running', '99', '0', '0', '-', '-', 'flat']);
    expect(rowOf(text, 'thrower').trim().split(/\s{2,}/)).toEqual(['thrower', 'Thrower', '1', 'failed', '-', '-', '17', '-', '-', '7 -5 @101.00; pnl -20.00']);
    expect(text).toContain('thrower: boom at onTick');
  });

  it('lists rejected strategies with their codes, and configuration errors', () => {
    expect(text).toContain('Rejected strategies (1)');
    expect(rowOf(text, 'bad')).toMatch(/bad\s+STRATEGY_TYPE_UNKNOWN\s+strategy_type 'Nope' is not registered/);
    expect(text).toContain('Configuration errors (1)');
    expect(text).toMatch(/STRATEGY_CONFIG_INVALID\s+entry 4: instruments: required/);
  });

  it('shows the consumer per partition and the producer when present', () => {
    expect(text).toContain('Consumer\n  state consuming   ready yes   fills caught up yes   queued batches 1');
    expect(text).toContain('bad ticks 2');
    expect(rowOf(text, 'market.ticks').trim().split(/\s{2,}/)).toEqual(['market.ticks', '0', '1,500,000', '1,500,250', '250', '1,498,000', '8 ms']);
    expect(rowOf(text, 'orders.filled').trim().split(/\s{2,}/)).toEqual(['orders.filled', '0', '5', '5', '0', '-', '-']);
    expect(text).toContain('Pipeline\n  ticks 1,500,000, rounds 3,000, signals 42, signals delivered 39, tick errors 17\n');
    expect(text).toContain('Producer\n  client started yes   in flight 3   acknowledged 39   dead-lettered 2');
  });

  it('says why it is not ready, and that the broker does not answer (the producer client being started says nothing about that)', () => {
    const away = formatStatus(
      {
        ...FIXTURE,
        readiness: {
          ready: false,
          reasons: ['Kafka broker unreachable: no answer since 2026-12-02T10:00:00.000Z (42 s)', 'warming up strategies from market.ticks partitions 2'],
          warnings: ['strategy configurations cannot be re-read since 2026-12-02T09:59:00.000Z'],
        },
        consumer: { ...FIXTURE.consumer, ready: false, broker_reachable: false, broker_unreachable_since: '2026-12-02T10:00:00.000Z' },
        producer: { ...FIXTURE.producer, healthy: false },
      },
      { ready: false },
    );
    expect(away).toContain('NOT READY: Kafka broker unreachable: no answer since 2026-12-02T10:00:00.000Z (42 s)\nNOT READY: warming up strategies from market.ticks partitions 2\n');
    expect(away).toContain('warning: strategy configurations cannot be re-read since 2026-12-02T09:59:00.000Z');
    expect(away).toContain('ready no   broker reachable no (no answer since 2026-12-02T10:00:00.000Z)');
    expect(away).toContain('client started yes   acknowledging no');
    expect(away).not.toContain('connected yes');
  });

  it('shows the configuration watcher: which, its state, its reloads and its last error', () => {
    const watch = {
      kind: 'postgres',
      state: 'reconnecting',
      since: '2026-01-01T10:00:00.000Z',
      reloads: 3,
      failures: 2,
      last_reload_at: '2026-01-01T09:59:00.000Z',
      last_reload_reason: 'notify',
      last_error: { code: 'DATABASE_UNAVAILABLE', message: 'connect ECONNREFUSED', at: '2026-01-01T10:00:00.000Z', reason: 'periodic' },
    };
    const out = lines(formatStatus({ ...FIXTURE, config_watch: watch }));
    const i = out.indexOf('Configuration watch');
    expect(i).toBeGreaterThan(0);
    expect(out[i + 1]).toBe('  postgres reconnecting since 2026-01-01T10:00:00.000Z   reloads 3   failures 2   last reload 2026-01-01T09:59:00.000Z (notify)');
    expect(out[i + 2]).toBe('  last error 2026-01-01T10:00:00.000Z: [DATABASE_UNAVAILABLE] connect ECONNREFUSED');
    expect(formatStatus({ ...FIXTURE, config_watch: null })).not.toContain('Configuration watch');
  });

  it('leaves out what the document does not have and survives odd documents', () => {
    const bare = formatStatus({ state: 'starting', threads: [], rejected: [] });
    expect(bare).toContain('state starting');
    expect(bare).toContain('Threads (0)\n  none');
    expect(bare).not.toContain('Consumer');
    expect(bare).not.toContain('Producer');
    expect(bare).not.toContain('Rejected');
    expect(formatStatus(null)).toContain('unexpected status document');
    expect(() => formatStatus({ threads: [{ strategies: [{}] }, 7, null], consumer: { partitions: 'x' }, producer: {} })).not.toThrow();
  });
});

describe('table helpers', () => {
  it('sizes columns to their content and right-aligns numbers', () => {
    const t = renderTable([{ header: 'name' }, { header: 'n', align: 'right' }], [['alpha', '1'], ['b', '1,000']]);
    expect(t).toBe(['  name       n', '  -----  -----', '  alpha      1', '  b      1,000', ''].join('\n'));
  });

  it('formats numbers, ages and durations', () => {
    expect(fmtInt(1234567.4)).toBe('1,234,567');
    expect(fmtInt(null)).toBe('-');
    expect(fmtAgeMs(999)).toBe('999 ms');
    expect(fmtAgeMs(1500)).toBe('1.5 s');
    expect(fmtAgeMs(125_000)).toBe('2m 05s');
    expect(fmtDuration(42)).toBe('42s');
    expect(fmtDuration(90_061)).toBe('1d 01h 01m');
    expect(positionSummary({ positions: [1, 2, 3, 4].map((i) => ({ instrument_token: i, quantity: i, avg_price: 10 })), realized_pnl: 0 })).toBe(
      '1 +1 @10.00, 2 +2 @10.00, 3 +3 @10.00, +1 more',
    );
  });
});
