import { createHash } from 'node:crypto';

/** Per instrument: the timestamp of the last tick the strategy had seen, and how many of that timestamp. */
export type InstrumentPositions = Record<string, readonly [number, number]>;

/** What a snapshot reflects. */
export interface SnapshotPosition {
  readonly instruments: InstrumentPositions;
  /** per `topic/partition` of market.ticks: every tick below this offset had been processed (live runs; empty elsewhere) */
  readonly partitions: Record<string, number>;
}

/** A strategy's saved state, as stored in `strategy_snapshots`. */
export interface StrategySnapshot {
  readonly strategyId: string;
  readonly strategyType: string;
  readonly paramsHash: string;
  readonly schemaVersion: number;
  readonly position: SnapshotPosition;
  /** `{ strategy: onSave(), runtime: the driver's clock, timers and bars }`, as JSON text */
  readonly state: string;
  /** the runner that took it */
  readonly runner: string;
  /** ISO time it was taken */
  readonly takenAt: string;
}

/** JSON with object keys sorted at every level: equal values give equal text. */
export function stableJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
    .join(',')}}`;
}

/** The identity of a strategy's parameters: a snapshot taken under others does not apply. */
export function paramsHash(strategyType: string, parameters: unknown): string {
  return createHash('sha256').update(strategyType).update('\u0000').update(stableJson(parameters)).digest('hex');
}
