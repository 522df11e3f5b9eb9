import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../app/package-root.js';
import { LATENCY_BUCKETS_US, PROTOCOL_VERSION, type LatencySummary } from '../protocol/messages.js';
import type { StrategyStatus, SupervisorStatus } from './status-document.js';
import type { ShardsStatus } from '../transport/kafka/shards/shards-status.js';
import type { TransactionsStatus } from '../transport/kafka/transactions/transactions-status.js';
import type { SnapshotsStatus } from '../snapshots/snapshot-cutter.js';

/** What the metrics are read from at scrape time (the components keep the counts; nothing is counted twice). */
export interface MetricSources {
  status(): Promise<SupervisorStatus>;
  /** the pipeline owns one count: signals the sink acknowledged (what was dispatched is the supervisor's, in its status totals) */
  pipeline?: () => { signalsDelivered: number } | undefined;
  consumer?: () =>
    | { lag: { topic: string; partition: number; lag: number }[]; badTicks: number; badFills: number; warmupTicks: number; redeliveredTicks: number; lostPartitions: number }
    | undefined;
  producer?: () => { inFlight: number; deadLettered: number; queueFullWaits: number } | undefined;
  /** a sharded runner's shards (kafka.shards.enabled) */
  shards?: () => ShardsStatus | undefined;
  /** exactly-once delivery's shard transactions (kafka.delivery: exactly-once) */
  transactions?: () => TransactionsStatus | undefined;
  /** strategy snapshots (snapshots.enabled with PostgreSQL) */
  snapshots?: () => SnapshotsStatus | undefined;
  ready?: () => boolean;
}

/** The states a held shard can be in, each a series of strategy_runner_shard_state. */
const SHARD_STATES = ['acquiring', 'warming', 'catching-up', 'live', 'releasing'] as const;

const PREFIX = 'strategy_runner_';

/** The fields of a strategy's status entry that hold a count or a duration (null: its thread did not answer). */
type NumericField = { [K in keyof StrategyStatus]: StrategyStatus[K] extends number | null ? K : never }[keyof StrategyStatus];

const DEFAULT_GAUGES_NAMED_TOTAL = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** The handler latency buckets in seconds (Prometheus' base unit), from the threads' µs buckets. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = LATENCY_BUCKETS_US.map((us) => us / 1e6);

/**
 * Prometheus metrics (prom-client, text format on /metrics). Every value is
 * read from its owner when scraped: the supervisor's status (per thread and
 * per strategy, from the threads' own counters), the pipeline, the consumer
 * and the producer. Labelled by strategy where it makes sense.
 */
export function createMetrics(src: MetricSources): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: PREFIX });
  // prom-client also reports these totals as gauges named `…_total`, which
  // Prometheus reserves for counters (promtool check metrics rejects them).
  // They are the sums of the same gauges without `_total` (labelled by type).
  for (const name of DEFAULT_GAUGES_NAMED_TOTAL) registry.removeSingleMetric(PREFIX + name);
  let snapshot: SupervisorStatus | undefined;

  const strategies = (): StrategyStatus[] => snapshot?.threads.flatMap((t) => t.strategies) ?? [];

  /** A metric whose value is read from its owner at scrape time (reset, then filled in). */
  function derived<M extends Counter | Gauge>(Kind: typeof Counter | typeof Gauge, name: string, help: string, labelNames: string[], read: (m: M) => void): void {
    const config = {
      name: PREFIX + name,
      help,
      labelNames,
      registers: [registry],
      collect(this: M) {
        this.reset();
        read(this);
      },
    };
    new Kind(config as never);
  }
  const counter = (name: string, help: string, labelNames: string[], read: (c: Counter) => void): void => derived(Counter, name, help, labelNames, read);
  const gauge = (name: string, help: string, labelNames: string[], read: (g: Gauge) => void): void => derived(Gauge, name, help, labelNames, read);

  counter('ticks_in_total', 'Ticks dispatched to the strategies', [], (c) => c.inc(snapshot?.totals.ticks ?? 0));
  counter('unrouted_ticks_total', 'Ticks no strategy subscribes to', [], (c) => c.inc(snapshot?.totals.unrouted_ticks ?? 0));
  counter('signals_delivered_total', 'Signals acknowledged by the sink', [], (c) => c.inc(src.pipeline?.()?.signalsDelivered ?? 0));
  /** One series per strategy, read from a numeric field of its /status entry (scaled: ms → s). */
  const perStrategy = (kind: 'counter' | 'gauge', name: string, help: string, field: NumericField, scale = 1): void => {
    const each = (put: (strategy: string, v: number) => void): void => {
      for (const s of strategies()) {
        const v = s[field];
        if (v !== null) put(s.id, v * scale);
      }
    };
    if (kind === 'counter') counter(name, help, ['strategy'], (c) => each((strategy, v) => c.inc({ strategy }, v)));
    else gauge(name, help, ['strategy'], (g) => each((strategy, v) => g.set({ strategy }, v)));
  };
  perStrategy('counter', 'strategy_ticks_total', 'Ticks handed to each strategy', 'ticks_in');
  perStrategy('counter', 'signals_out_total', 'Signals emitted by each strategy (one per broker)', 'signals_out');
  perStrategy('counter', 'strategy_errors_total', 'Errors of each strategy (throws in onTick/onFill, invalid output)', 'errors');
  perStrategy('counter', 'strategy_restarts_total', 'Restarts of each strategy', 'restarts');
  perStrategy('counter', 'strategy_conflated_ticks_total', 'Ticks of each strategy replaced by a newer one of the same instrument while it was shedding load', 'conflated_ticks');
  perStrategy('counter', 'strategy_missed_ticks_total', 'Ticks each strategy missed while it was restarting or quarantined', 'missed_ticks');
  perStrategy('counter', 'strategy_behind_episodes_total', 'Times each strategy fell behind for longer than its bound (supervision.overload)', 'behind_episodes');
  perStrategy('gauge', 'strategy_behind_seconds', 'How long the thread of each strategy has had unfinished batches without a break (0 once it caught up)', 'behind_ms', 1 / 1000);
  perStrategy('counter', 'config_updates_rejected_total', 'Configuration updates of each strategy refused (the running version kept)', 'rejected_updates');
  gauge('strategy_config_update_rejected', '1 while the latest configuration update of a strategy is refused', ['strategy'], (g) => {
    for (const s of strategies()) g.set({ strategy: s.id }, s.rejected_update === null ? 0 : 1);
  });
  // The supervisor's records count every thread's unexpected ends, retired threads included: a count that only grows.
  counter('thread_failures_total', 'Strategy threads that ended unexpectedly (each was replaced)', [], (c) => c.inc(snapshot?.totals.thread_failures ?? 0));
  counter('bad_records_total', 'Input records sent to the dead-letter topic', ['kind'], (c) => {
    const k = src.consumer?.();
    if (k === undefined) return;
    c.inc({ kind: 'tick' }, k.badTicks);
    c.inc({ kind: 'fill' }, k.badFills);
  });
  counter('warmup_ticks_total', 'Ticks re-read from market.ticks to rebuild strategy state (no signals)', [], (c) => c.inc(src.consumer?.()?.warmupTicks ?? 0));
  counter('consumer_redelivered_ticks_total', 'Ticks the client delivered again below the runner\'s position, skipped (never dispatched twice)', [], (c) =>
    c.inc(src.consumer?.()?.redeliveredTicks ?? 0),
  );
  counter('consumer_partitions_lost_total', 'Partitions of market.ticks lost with an expired group session', [], (c) => c.inc(src.consumer?.()?.lostPartitions ?? 0));
  gauge('thread_queue_depth', 'Batches sent to a thread and not yet answered', ['thread'], (g) => {
    for (const t of snapshot?.threads ?? []) g.set({ thread: String(t.thread) }, t.queue_depth);
  });
  gauge('thread_heap_used_bytes', 'V8 heap used by each strategy thread', ['thread'], (g) => {
    for (const t of snapshot?.threads ?? []) if (t.heap_used_bytes !== null) g.set({ thread: String(t.thread) }, t.heap_used_bytes);
  });
  gauge('thread_heap_total_bytes', 'V8 heap committed by each strategy thread (most of its resident memory)', ['thread'], (g) => {
    for (const t of snapshot?.threads ?? []) if (t.heap_total_bytes !== null) g.set({ thread: String(t.thread) }, t.heap_total_bytes);
  });
  gauge('thread_heartbeat_age_seconds', 'Time since each thread last reported alive', ['thread'], (g) => {
    for (const t of snapshot?.threads ?? []) if (t.last_heartbeat_age_ms !== null) g.set({ thread: String(t.thread) }, t.last_heartbeat_age_ms / 1000);
  });
  gauge('strategies', 'Strategies by state', ['state'], (g) => {
    const by = new Map<string, number>();
    for (const s of strategies()) by.set(s.state, (by.get(s.state) ?? 0) + 1);
    by.set('rejected', snapshot?.rejected.length ?? 0);
    for (const [state, n] of by) g.set({ state }, n);
  });
  gauge('consumer_lag', 'Messages between the consumer position and the end of the partition', ['topic', 'partition'], (g) => {
    for (const p of src.consumer?.()?.lag ?? []) g.set({ topic: p.topic, partition: String(p.partition) }, p.lag);
  });
  counter('producer_queue_full_waits_total', "Signals that found the producer's local queue full and waited for deliveries to make room", [], (c) => c.inc(src.producer?.()?.queueFullWaits ?? 0));
  gauge('signals_in_flight', 'Signals handed to the producer and not yet acknowledged', [], (g) => g.set(src.producer?.()?.inFlight ?? 0));
  gauge('ready', '1 when the service is ready (readyz)', [], (g) => g.set(src.ready?.() === true ? 1 : 0));
  if (src.shards !== undefined) {
    const shards = src.shards;
    gauge('shards_held', 'Shards this runner holds (kafka.shards: acquiring, active or releasing)', [], (g) => g.set(shards()?.held.length ?? 0));
    gauge('shard_state', '1 for the state each held shard is in', ['shard', 'state'], (g) => {
      for (const s of shards()?.shards ?? []) for (const state of SHARD_STATES) g.set({ shard: String(s.shard), state }, s.state === state ? 1 : 0);
    });
    gauge('shard_lag', "Ticks between each held shard's acknowledged position and the end of market.ticks (all partitions)", ['shard'], (g) => {
      for (const s of shards()?.shards ?? []) g.set({ shard: String(s.shard) }, s.lag);
    });
    counter('shard_signals_total', 'Signals published for each shard since this runner acquired it', ['shard'], (c) => {
      for (const s of shards()?.shards ?? []) c.inc({ shard: String(s.shard) }, s.signals);
    });
    counter('shard_events_total', 'Shard ownership changes on this runner', ['event'], (c) => {
      const k = shards()?.counters;
      if (k === undefined) return;
      for (const event of ['acquired', 'released', 'lost', 'fenced', 'rebalances', 'releaseTimeouts', 'positionsUnreadable'] as const) c.inc({ event: snakeCase(event) }, k[event] ?? 0);
    });
    counter('shard_dropped_signals_total', 'Signals of shards released or lost here, produced afterwards and never published (their next owner emits them)', [], (c) => c.inc(shards()?.counters['droppedSignals'] ?? 0));
  }
  if (src.transactions !== undefined) {
    const txns = src.transactions;
    counter('shard_transactions_total', "Each held shard's transactions (exactly-once delivery) by outcome, since this runner acquired it", ['shard', 'outcome'], (c) => {
      for (const s of txns()?.shards ?? []) {
        c.inc({ shard: String(s.shard), outcome: 'committed' }, s.committed);
        c.inc({ shard: String(s.shard), outcome: 'aborted' }, s.aborted);
      }
    });
    counter('shard_transaction_seconds_total', "Time each held shard's committed transactions took, begin to the broker's answer (divide by the committed count for the mean)", ['shard'], (c) => {
      for (const s of txns()?.shards ?? []) c.inc({ shard: String(s.shard) }, (s.avg_commit_ms * s.committed) / 1000);
    });
    gauge('shard_transaction_open_age_seconds', "How long each held shard's oldest signal not yet committed has waited: its open transaction's age", ['shard'], (g) => {
      for (const s of txns()?.shards ?? []) g.set({ shard: String(s.shard) }, s.open_age_ms / 1000);
    });
    gauge('transaction_commit_seconds', 'Commit duration over the last 1,024 shard transactions on this runner: median (p50), p99 and max', ['stat'], (g) => {
      const t = txns();
      if (t === undefined) return;
      g.set({ stat: 'p50' }, t.commit_ms.p50 / 1000);
      g.set({ stat: 'p99' }, t.commit_ms.p99 / 1000);
      g.set({ stat: 'max' }, t.commit_ms.max / 1000);
    });
    counter('transaction_events_total', 'Shard transaction events on this runner: producers fenced by a new owner, producers rebuilt after a fatal error, initTransactions failures', ['event'], (c) => {
      const t = txns();
      if (t === undefined) return;
      c.inc({ event: 'fenced' }, t.fenced);
      c.inc({ event: 'rebuilt' }, t.rebuilds);
      c.inc({ event: 'init_failed' }, t.init_failures);
    });
    gauge('transaction_waiting_signals', 'Signals waiting for their shard transaction to commit', [], (g) => g.set(txns()?.waiting_signals ?? 0));
  }

  if (src.snapshots !== undefined) {
    const snaps = src.snapshots;
    counter('snapshot_cuts_total', 'Snapshot cuts by outcome: stored (every strategy with onSave, one transaction) or failed (not stored; the previous snapshots stay)', ['outcome'], (c) => {
      const st = snaps();
      if (st === undefined) return;
      c.inc({ outcome: 'stored' }, st.cuts);
      c.inc({ outcome: 'failed' }, st.failed_cuts);
    });
    counter('snapshot_events_total', "Strategies' snapshots by event: saved (stored in a cut), save_error (onSave failed), loaded (a start continued from one), stale (ignored: other parameters, instruments or version), discarded (refused by the strategy)", ['event'], (c) => {
      const st = snaps();
      if (st === undefined) return;
      c.inc({ event: 'saved' }, st.saved);
      c.inc({ event: 'save_error' }, st.save_errors);
      c.inc({ event: 'loaded' }, st.loaded);
      c.inc({ event: 'stale' }, st.stale);
      c.inc({ event: 'discarded' }, st.discarded);
    });
    gauge('snapshot_last_cut_timestamp_seconds', 'Unix time of the last stored snapshot cut, 0 before the first (alert on time() minus it growing past a few intervals)', [], (g) => {
      const at = snaps()?.last_cut_at;
      g.set(at === null || at === undefined ? 0 : Date.parse(at) / 1000);
    });
  }

  // What is running: one series, value 1, the facts as labels (join on it in queries).
  new Gauge({
    name: `${PREFIX}build_info`,
    help: 'strategy-runner build: package version, Node.js version and thread protocol version as labels; always 1',
    labelNames: ['version', 'node_version', 'protocol_version'],
    registers: [registry],
  }).set({ version: packageVersion(), node_version: process.version, protocol_version: String(PROTOCOL_VERSION) }, 1);

  // The handler latency histogram comes ready-made from the threads (cumulative
  // buckets per strategy, in µs); exposed in seconds, Prometheus' base unit.
  registry.registerMetric({
    name: `${PREFIX}handler_latency_seconds`,
    get: async () => ({
      name: `${PREFIX}handler_latency_seconds`,
      help: 'Time a strategy spends in onTick, seconds (buckets 1 µs to 1 s, ≈9% resolution within a bucket)',
      type: 'histogram',
      aggregator: 'sum',
      values: strategies().flatMap((s) => histogramValues(s.id, s.latency_us)),
    }),
  } as never);

  // One status snapshot per scrape, taken before the collectors run.
  const metrics = registry.metrics.bind(registry);
  registry.metrics = async () => {
    snapshot = await src.status();
    return metrics();
  };
  return registry;
}

function histogramValues(strategy: string, l: LatencySummary | null): { metricName: string; labels: Record<string, string | number>; value: number }[] {
  if (l === null) return [];
  const name = `${PREFIX}handler_latency_seconds`;
  const out = LATENCY_BUCKETS_SECONDS.map((le, i) => ({ metricName: `${name}_bucket`, labels: { strategy, le }, value: l.buckets[i] ?? 0 }));
  out.push({ metricName: `${name}_bucket`, labels: { strategy, le: '+Inf' as never }, value: l.count });
  out.push({ metricName: `${name}_sum`, labels: { strategy } as never, value: l.sum / 1e6 });
  out.push({ metricName: `${name}_count`, labels: { strategy } as never, value: l.count });
  return out;
}

let version: string | undefined;

function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}

function snakeCase(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
