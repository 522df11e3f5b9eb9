import type { Logger } from 'pino';
import type { StrategyConfig } from '../config/strategy-config.js';
import type { SnapshotUse } from '../protocol/messages.js';
import type { StrategyRegistry } from '../strategies/registry.js';
import { paramsHash, type StrategySnapshot } from './snapshot.js';

export interface SnapshotCounts {
  /** snapshots handed to a starting strategy that loaded them */
  loaded: number;
  /** ignored before the start: other parameters or instruments, another snapshotVersion, another type */
  stale: number;
  /** given to the strategy and refused (onLoad threw, the runtime state did not fit) */
  discarded: number;
  /** snapshots taken (cuts × strategies with onSave) and stored */
  saved: number;
  /** onSave failures */
  saveErrors: number;
}

/**
 * The latest snapshot of each strategy known to this process (loaded from
 * the store at start, then each cut's), and the rule for using one: only
 * for the same strategy type, parameters and instruments (the hash) and
 * the definition's current snapshotVersion.
 */
export class SnapshotBook {
  readonly #byId = new Map<string, StrategySnapshot>();
  #registry: StrategyRegistry | undefined;
  readonly #log: Logger;
  readonly counts: SnapshotCounts = { loaded: 0, stale: 0, discarded: 0, saved: 0, saveErrors: 0 };
  /** false when the store could not be read at start: no cuts this run */
  enabled = true;

  constructor(logger: Logger) {
    this.#log = logger;
  }

  /** The registry the definitions' snapshotVersion comes from (set when the runtime has built it). */
  useRegistry(registry: StrategyRegistry): void {
    this.#registry = registry;
  }

  versionOf(strategyType: string): number {
    return this.#registry?.get(strategyType)?.snapshotVersion ?? 1;
  }

  /** Whether the stored snapshot of this configuration would be used (nothing is consumed or logged). */
  usable(config: StrategyConfig): StrategySnapshot | undefined {
    const s = this.#byId.get(config.id);
    return s !== undefined && this.#stale(config, s) === undefined ? s : undefined;
  }

  get(id: string): StrategySnapshot | undefined {
    return this.#byId.get(id);
  }

  put(s: StrategySnapshot): void {
    this.#byId.set(s.strategyId, s);
  }

  /** The snapshot a starting strategy may continue from, or undefined (a stale one is dropped with a warning). */
  forStart(config: StrategyConfig): string | undefined {
    const s = this.#byId.get(config.id);
    if (s === undefined) return undefined;
    const why = this.#stale(config, s);
    if (why === undefined) return s.state;
    this.counts.stale++;
    this.#byId.delete(config.id);
    this.#log.warn({ strategy_id: config.id, taken_at: s.takenAt, reason: why }, 'snapshot ignored: warming up from ticks instead');
    return undefined;
  }

  /** What the strategy did with the snapshot it was given. */
  used(config: StrategyConfig, use: SnapshotUse): void {
    if (use === 'none') return;
    if (use === 'loaded') {
      this.counts.loaded++;
      this.#log.info({ strategy_id: config.id, taken_at: this.#byId.get(config.id)?.takenAt }, 'strategy continues from its snapshot');
      return;
    }
    this.counts.discarded++;
    this.#byId.delete(config.id);
    this.#log.warn({ strategy_id: config.id, reason: use.discarded }, 'snapshot refused by the strategy: it started afresh');
  }

  #stale(config: StrategyConfig, s: StrategySnapshot): string | undefined {
    if (s.strategyType !== config.strategy_type) return `taken for type '${s.strategyType}', the strategy is now '${config.strategy_type}'`;
    if (s.paramsHash !== configHash(config)) return 'taken under other parameters or instruments';
    const version = this.versionOf(config.strategy_type);
    if (s.schemaVersion !== version) return `snapshotVersion ${s.schemaVersion}, the strategy's is now ${version}`;
    return undefined;
  }
}

/** The hash a snapshot is bound to: type, parameters and instruments. */
export function configHash(config: StrategyConfig): string {
  return paramsHash(config.strategy_type, { parameters: config.parameters, instruments: [...config.instruments].sort((a, b) => a - b) });
}
