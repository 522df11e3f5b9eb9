import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { LATENCY_BUCKETS_US, type LatencySummary } from '../../../src/protocol/messages.js';
import { createMetrics, LATENCY_BUCKETS_SECONDS } from '../../../src/status/metrics.js';
import type { StrategyStatus, SupervisorStatus, TotalsStatus } from '../../../src/status/status-document.js';

const latency = (count: number): LatencySummary =>
  ({ count, sum: count * 20, buckets: LATENCY_BUCKETS_US.map((us) => (us >= 25 ? count : 0)), p50: 20, p90: 20, p99: 20, max: 20 }) as unknown as LatencySummary;

/** A strategy's status entry: the fields these tests look at, the rest at their idle values. */
function strategy(over: Partial<StrategyStatus> & Pick<StrategyStatus, 'id' | 'state'>): StrategyStatus {
  return {
    type: 'T',
    instruments: 1,
    ticks_in: 0,
    signals_out: 0,
    errors: 0,
    consecutive_errors: 0,
    fills_applied: 0,
    last_error: null,
    latency_us: null,
    restarts: 0,
    conflated_ticks: 0,
    slow: false,
    overload_policy: 'conflate',
    behind_ms: 0,
    behind_episodes: 0,
    missed_ticks: 0,
    rejected_update: null,
    rejected_updates: 0,
    last_restart_reason: null,
    quarantine_reason: null,
    portfolio: { cash: 0, realized_pnl: 0, fill_count: 0, fees: 0, positions: [] },
    ...over,
  };
}

const TOTALS: TotalsStatus = {
  rounds: 0,
  ticks: 0,
  unrouted_ticks: 0,
  signals: 0,
  tick_errors: 0,
  dropped_ticks: 0,
  conflated_ticks: 0,
  behind_episodes: 0,
  thread_failures: 0,
  rejected_updates: 0,
  fills_applied: 0,
  fills_duplicate: 0,
  fills_unknown_strategy: 0,
};

function status(over: Partial<SupervisorStatus> = {}): SupervisorStatus {
  return {
    state: 'running',
    threads: [
      {
        thread: 0,
        thread_id: 11,
        state: 'ready',
        strategies: [
          strategy({ id: 'a', state: 'running', ticks_in: 5, signals_out: 2, errors: 1, restarts: 0, behind_ms: 1500, rejected_update: null, latency_us: latency(5) }),
          strategy({ id: 'b', state: 'quarantined', ticks_in: 3, signals_out: 0, errors: 4, restarts: 2, behind_ms: 0, rejected_update: { code: 'X', error: 'x', fields: [] }, latency_us: null }),
        ],
        ticks_in: 8,
        signals_out: 2,
        errors: 5,
        queue_depth: 3,
        last_heartbeat_age_ms: 250,
        heap_used_bytes: 1000,
        heap_total_bytes: 2000,
        restarts: 0,
        last_failure: null,
        failure: null,
      },
    ],
    rejected: [{ id: 'c', code: 'CONFIG_INVALID', error: 'bad' }],
    totals: { ...TOTALS, ticks: 8, unrouted_ticks: 1, thread_failures: 2 },
    routing: { instruments: 1, strategies: 2 },
    ...over,
  };
}

/** `name{labels} value` lines of a metric (comments left out). */
const series = (text: string, name: string): string[] => text.split('\n').filter((l) => l.startsWith(`strategy_runner_${name}`) && !l.startsWith('#'));

describe('createMetrics', () => {
  it('reads the supervisor status at scrape time: per strategy, per thread, totals', async () => {
    let st = status();
    const text = await createMetrics({ status: async () => st }).metrics();
    expect(series(text, 'strategy_ticks_total')).toEqual(['strategy_runner_strategy_ticks_total{strategy="a"} 5', 'strategy_runner_strategy_ticks_total{strategy="b"} 3']);
    expect(series(text, 'strategy_errors_total')).toContain('strategy_runner_strategy_errors_total{strategy="b"} 4');
    expect(series(text, 'strategy_behind_seconds')).toContain('strategy_runner_strategy_behind_seconds{strategy="a"} 1.5');
    expect(series(text, 'strategy_config_update_rejected')).toEqual([
      'strategy_runner_strategy_config_update_rejected{strategy="a"} 0',
      'strategy_runner_strategy_config_update_rejected{strategy="b"} 1',
    ]);
    expect(series(text, 'thread_queue_depth')).toEqual(['strategy_runner_thread_queue_depth{thread="0"} 3']);
    expect(series(text, 'thread_heartbeat_age_seconds')).toEqual(['strategy_runner_thread_heartbeat_age_seconds{thread="0"} 0.25']);
    expect(series(text, 'thread_failures_total')).toEqual(['strategy_runner_thread_failures_total 2']);
    expect(series(text, 'strategies{')).toEqual(expect.arrayContaining(['strategy_runner_strategies{state="running"} 1', 'strategy_runner_strategies{state="quarantined"} 1', 'strategy_runner_strategies{state="rejected"} 1']));
    // The tick counters are the supervisor's totals (their one owner).
    expect(series(text, 'ticks_in_total')).toEqual(['strategy_runner_ticks_in_total 8']);
    expect(series(text, 'unrouted_ticks_total')).toEqual(['strategy_runner_unrouted_ticks_total 1']);

    // The next scrape reads again: nothing is counted twice, a strategy gone is gone.
    st = status({ threads: [{ ...status().threads[0]!, strategies: [] }] });
    const registry = createMetrics({ status: async () => st });
    const again = await registry.metrics();
    expect(series(again, 'strategy_ticks_total')).toEqual([]);
  });

  it('takes the pipeline, consumer and producer counters, and readiness, from their owners', async () => {
    const text = await createMetrics({
      status: async () => status(),
      pipeline: () => ({ signalsDelivered: 6 }),
      consumer: () => ({ lag: [{ topic: 'ticks', partition: 2, lag: 40 }], badTicks: 3, badFills: 1, warmupTicks: 12, redeliveredTicks: 0, lostPartitions: 1 }),
      producer: () => ({ inFlight: 5, deadLettered: 4, queueFullWaits: 7 }),
      ready: () => true,
    }).metrics();
    expect(series(text, 'ticks_in_total')).toEqual(['strategy_runner_ticks_in_total 8']);
    expect(series(text, 'unrouted_ticks_total')).toEqual(['strategy_runner_unrouted_ticks_total 1']);
    expect(series(text, 'signals_delivered_total')).toEqual(['strategy_runner_signals_delivered_total 6']);
    expect(series(text, 'bad_records_total')).toEqual(['strategy_runner_bad_records_total{kind="tick"} 3', 'strategy_runner_bad_records_total{kind="fill"} 1']);
    expect(series(text, 'warmup_ticks_total')).toEqual(['strategy_runner_warmup_ticks_total 12']);
    expect(series(text, 'consumer_partitions_lost_total')).toEqual(['strategy_runner_consumer_partitions_lost_total 1']);
    expect(series(text, 'consumer_lag')).toEqual(['strategy_runner_consumer_lag{topic="ticks",partition="2"} 40']);
    expect(series(text, 'signals_in_flight')).toEqual(['strategy_runner_signals_in_flight 5']);
    expect(series(text, 'producer_queue_full_waits_total')).toEqual(['strategy_runner_producer_queue_full_waits_total 7']);
    expect(series(text, 'ready')).toEqual(['strategy_runner_ready 1']);
  });

  it('takes the snapshot counts from the cutter, and the time of the last cut (0 before the first)', async () => {
    const base = { interval_ms: 60_000, cuts: 3, failed_cuts: 1, last_cut_strategies: 2, last_error: 'x', last_cut_ms: 12, loaded: 2, stale: 1, discarded: 0, saved: 6, save_errors: 1 };
    const at = '2026-12-06T10:00:00.500Z';
    const text = await createMetrics({ status: async () => status(), snapshots: () => ({ ...base, last_cut_at: at }) }).metrics();
    expect(series(text, 'snapshot_cuts_total')).toEqual(['strategy_runner_snapshot_cuts_total{outcome="stored"} 3', 'strategy_runner_snapshot_cuts_total{outcome="failed"} 1']);
    expect(series(text, 'snapshot_events_total')).toEqual([
      'strategy_runner_snapshot_events_total{event="saved"} 6',
      'strategy_runner_snapshot_events_total{event="save_error"} 1',
      'strategy_runner_snapshot_events_total{event="loaded"} 2',
      'strategy_runner_snapshot_events_total{event="stale"} 1',
      'strategy_runner_snapshot_events_total{event="discarded"} 0',
    ]);
    expect(series(text, 'snapshot_last_cut_timestamp_seconds')).toEqual([`strategy_runner_snapshot_last_cut_timestamp_seconds ${Date.parse(at) / 1000}`]);
    const none = await createMetrics({ status: async () => status(), snapshots: () => ({ ...base, last_cut_at: null }) }).metrics();
    expect(series(none, 'snapshot_last_cut_timestamp_seconds')).toEqual(['strategy_runner_snapshot_last_cut_timestamp_seconds 0']);
    expect(spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' }).status).toBe(0);
  });

  it("exposes the threads' latency histograms in seconds, and no gauge named like a counter", async () => {
    const text = await createMetrics({ status: async () => status() }).metrics();
    expect(LATENCY_BUCKETS_SECONDS[0]).toBe(1e-6);
    const a = series(text, 'handler_latency_seconds').filter((l) => l.includes('strategy="a"'));
    expect(a).toContain('strategy_runner_handler_latency_seconds_bucket{strategy="a",le="+Inf"} 5');
    expect(a).toContain('strategy_runner_handler_latency_seconds_count{strategy="a"} 5');
    expect(a).toContain('strategy_runner_handler_latency_seconds_sum{strategy="a"} 0.0001');
    expect(series(text, 'handler_latency_seconds').some((l) => l.includes('strategy="b"'))).toBe(false);
    expect(text).not.toMatch(/^strategy_runner_nodejs_active_handles_total/m);
    expect(series(text, 'build_info')[0]).toMatch(/^strategy_runner_build_info\{version="[^"]+",node_version="v\d+/);
  });
});
