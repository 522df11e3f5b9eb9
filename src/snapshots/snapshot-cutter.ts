import type { Logger } from 'pino';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { Supervisor } from '../supervision/supervisor.js';
import type { SnapshotStore } from '../transport/postgres/snapshot-store.js';
import { configHash, type SnapshotBook } from './snapshot-book.js';
import type { StrategySnapshot } from './snapshot.js';

export interface SnapshotCutterOptions {
  supervisor: Supervisor;
  pipeline: Pipeline;
  store: SnapshotStore;
  book: SnapshotBook;
  /** per `topic/partition` of market.ticks: the offset below which every tick's signals are acknowledged */
  positions: () => Record<string, number>;
  /** this runner's name, stored with each snapshot */
  runner: string;
  intervalMs: number;
  logger: Logger;
}

/** What /status shows of snapshots. */
export interface SnapshotsStatus {
  interval_ms: number;
  cuts: number;
  failed_cuts: number;
  last_cut_at: string | null;
  last_cut_ms: number | null;
  last_cut_strategies: number;
  last_error: string | null;
  loaded: number;
  stale: number;
  discarded: number;
  saved: number;
  save_errors: number;
}

/**
 * Takes a snapshot cut every `intervalMs` and at shutdown: each thread
 * answers with its strategies' onSave after every batch dispatched before
 * the request; the cut is stored (one transaction) only once every signal
 * of those batches is acknowledged, so a restart that continues from it
 * never misses a signal its state already reflects. Each snapshot records
 * where it stands: per instrument (the last timestamp seen and how many
 * ticks of it), and per partition the offset below which all ticks had been
 * acknowledged when the request went out (where a restart's warm-up must
 * start, at the latest).
 */
export class SnapshotCutter {
  readonly #o: SnapshotCutterOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  readonly #status: Omit<SnapshotsStatus, 'loaded' | 'stale' | 'discarded' | 'saved' | 'save_errors'>;

  constructor(o: SnapshotCutterOptions) {
    this.#o = o;
    this.#status = { interval_ms: o.intervalMs, cuts: 0, failed_cuts: 0, last_cut_at: null, last_cut_ms: null, last_cut_strategies: 0, last_error: null };
  }

  start(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    this.#timer = setInterval(() => void this.cut('interval'), this.#o.intervalMs);
    this.#timer.unref();
  }

  /** One cut (none while another runs: that one's result stands). */
  cut(reason: 'interval' | 'shutdown'): Promise<void> {
    if (this.#running !== undefined) return this.#running;
    this.#running = this.#cut(reason).finally(() => (this.#running = undefined));
    return this.#running;
  }

  /** No more interval cuts; waits for one under way. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  status(): SnapshotsStatus {
    const c = this.#o.book.counts;
    return { ...this.#status, loaded: c.loaded, stale: c.stale, discarded: c.discarded, saved: c.saved, save_errors: c.saveErrors };
  }

  async #cut(reason: string): Promise<void> {
    const { supervisor, pipeline, store, book, logger } = this.#o;
    if (supervisor.state !== 'running') return;
    const t0 = Date.now();
    // Read together, before the requests go out (synchronously, below): no round is dispatched in between.
    const round = pipeline.lastDispatchedRound;
    const partitions = this.#o.positions();
    const taken = await supervisor.takeSnapshots();
    const at = new Date().toISOString();
    const snaps: StrategySnapshot[] = [];
    for (const t of taken) {
      if (t.state === undefined || t.instruments === undefined) {
        book.counts.saveErrors++;
        logger.warn({ strategy_id: t.config.id, code: t.error?.code, err: t.error?.message }, 'snapshot not taken: onSave failed; the previous one stays');
        continue;
      }
      snaps.push({
        strategyId: t.config.id,
        strategyType: t.config.strategy_type,
        paramsHash: configHash(t.config),
        schemaVersion: book.versionOf(t.config.strategy_type),
        position: { instruments: t.instruments, partitions },
        state: t.state,
        runner: this.#o.runner,
        takenAt: at,
      });
    }
    if (snaps.length === 0) return;
    try {
      await pipeline.settledThrough(round);
      await store.save(snaps);
    } catch (err) {
      this.#status.failed_cuts++;
      this.#status.last_error = `${at}: ${(err as Error).message}`;
      logger.warn({ err: (err as Error).message, reason, strategies: snaps.length }, 'snapshot cut not stored; the previous snapshots stay');
      return;
    }
    for (const s of snaps) book.put(s);
    book.counts.saved += snaps.length;
    this.#status.cuts++;
    this.#status.last_cut_at = at;
    this.#status.last_cut_ms = Date.now() - t0;
    this.#status.last_cut_strategies = snaps.length;
    logger.debug({ reason, strategies: snaps.length, ms: this.#status.last_cut_ms }, 'snapshot cut stored');
  }
}
