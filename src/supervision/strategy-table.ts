import type { Logger } from 'pino';
import type { StrategyConfig } from '../config/strategy-config.js';
import { serializeError } from '../errors.js';
import type { StrategyRejection } from './reports.js';
import { StrategyEntry } from './strategy-entry.js';

/**
 * The configured strategies: by id and by slot (a slot number is never
 * reused, so a late answer from a replaced thread finds nobody), and the
 * ones that could not be started, with why.
 */
export class StrategyTable {
  readonly #log: Logger;
  readonly #byId = new Map<string, StrategyEntry>();
  readonly #bySlot = new Map<number, StrategyEntry>();
  #nextSlot = 0;
  /** why each configured strategy that is not running was not started */
  rejected: StrategyRejection[] = [];
  /** id → the JSON of a configuration that was rejected: not retried until it changes */
  readonly rejectedConfigs = new Map<string, string>();

  constructor(log: Logger) {
    this.#log = log;
  }

  get(id: string): StrategyEntry | undefined {
    return this.#byId.get(id);
  }

  has(id: string): boolean {
    return this.#byId.has(id);
  }

  bySlot(slot: number): StrategyEntry | undefined {
    return this.#bySlot.get(slot);
  }

  values(): IterableIterator<StrategyEntry> {
    return this.#byId.values();
  }

  /** The strategies not stopped on one thread. */
  onHost(index: number): StrategyEntry[] {
    return [...this.#byId.values()].filter((e) => e.host === index && e.state !== 'stopped');
  }

  /** A new entry (`restarting`) with a fresh slot; not in the table until `add()`. */
  create(config: StrategyConfig, host: number): StrategyEntry {
    return new StrategyEntry(config, host, this.#nextSlot++);
  }

  add(e: StrategyEntry): void {
    this.#byId.set(e.config.id, e);
    this.#bySlot.set(e.slot, e);
  }

  delete(e: StrategyEntry): void {
    this.#byId.delete(e.config.id);
    this.#bySlot.delete(e.slot);
  }

  /** A fresh slot number for an entry moving to a new thread instance. */
  moveSlot(e: StrategyEntry): number {
    this.#bySlot.delete(e.slot);
    const slot = this.#nextSlot++;
    this.#bySlot.set(slot, e);
    return slot;
  }

  /** Report a strategy as not started (replacing an older report of it). */
  reject(strategyId: string, err: unknown): void {
    const error = serializeError(err);
    this.rejected = this.rejected.filter((r) => r.strategyId !== strategyId);
    this.rejected.push({ strategyId, error });
    this.#log.error({ strategy_id: strategyId, code: error.code, err: error.message }, 'strategy not started');
  }

  /** Reject a configuration and remember it: it is not retried until it changes. */
  rejectConfig(config: StrategyConfig, err: unknown): void {
    this.reject(config.id, err);
    this.rejectedConfigs.set(config.id, JSON.stringify(config));
  }
}
