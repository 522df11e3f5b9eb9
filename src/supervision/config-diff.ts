/**
 * What changed between two sets of strategy configurations, so a running
 * supervisor can apply a reload with the least disruption.
 *
 * Rules (pure: no I/O, inputs never mutated):
 *  - Only ACTIVE configurations count; an inactive one is treated as absent.
 *    Deactivating a strategy therefore shows up in `removed`, reactivating it
 *    in `added`. Ids are the identity; inputs are assumed to hold unique ids
 *    (parseStrategyConfigs guarantees it); if not, the last active one wins.
 *  - `instruments` and `brokers` are compared as SETS: order and repeated
 *    entries do not matter ([1, 2] equals [2, 1] and [1, 2, 2]), as for the
 *    route table, which routes each token once.
 *  - `parameters` are compared by a stable deep equality: object key order
 *    does not matter, array order does, a key holding `undefined` is the same
 *    as an absent key (as in JSON).
 *  - Any other field a future schema adds is compared deeply and counts like
 *    `strategy_type` (a restart).
 *  - A changed configuration gets a `kind`:
 *      'params'  — only `parameters` differ: the strategy may take them live
 *                  (an update hook), or be restarted if it has none;
 *      'reroute' — only `instruments` differ: re-route ticks without a restart
 *                  (note: the strategy's context also lists its instruments);
 *      'restart' — `strategy_type` or `brokers` differ, or more than one field
 *                  differs.
 *  - Every list is sorted by id (plain code-unit order, locale independent),
 *    so the result is deterministic whatever the input order.
 */
import type { StrategyConfig } from '../config/strategy-config.js';

export type ConfigChangeKind = 'params' | 'restart' | 'reroute';

/** A field whose difference was detected; other (future) fields are reported by name. */
export type ConfigField = 'strategy_type' | 'instruments' | 'parameters' | 'brokers' | (string & {});

export interface ConfigChange {
  readonly before: StrategyConfig;
  readonly after: StrategyConfig;
  readonly kind: ConfigChangeKind;
  /** the fields that differ, sorted: for logs */
  readonly fields: readonly ConfigField[];
}

export interface ConfigDiff {
  /** active in `next` and absent or inactive in `current` */
  added: StrategyConfig[];
  /** active in `current` and absent or inactive in `next`: the OLD configuration */
  removed: StrategyConfig[];
  changed: ConfigChange[];
  /** ids active in both with nothing that matters changed */
  unchanged: string[];
}

/** Fields that are not compared: the identity and the activity filter. */
const IGNORED = new Set(['id', 'is_active']);

export function diffConfigs(current: readonly StrategyConfig[], next: readonly StrategyConfig[]): ConfigDiff {
  const before = activeById(current);
  const after = activeById(next);
  const diff: ConfigDiff = { added: [], removed: [], changed: [], unchanged: [] };

  for (const id of sortedIds(after.keys())) {
    const a = after.get(id)!;
    const b = before.get(id);
    if (b === undefined) {
      diff.added.push(a);
      continue;
    }
    const fields = differingFields(b, a);
    if (fields.length === 0) diff.unchanged.push(id);
    else diff.changed.push({ before: b, after: a, kind: kindOf(fields), fields });
  }
  for (const id of sortedIds(before.keys())) {
    if (!after.has(id)) diff.removed.push(before.get(id)!);
  }
  return diff;
}

/** True when applying `d` would change nothing. */
export function isEmptyDiff(d: ConfigDiff): boolean {
  return d.added.length === 0 && d.removed.length === 0 && d.changed.length === 0;
}

function activeById(configs: readonly StrategyConfig[]): Map<string, StrategyConfig> {
  const m = new Map<string, StrategyConfig>();
  for (const c of configs) if (c.is_active) m.set(c.id, c);
  return m;
}

function sortedIds(ids: Iterable<string>): string[] {
  return [...ids].sort(compareIds);
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function differingFields(b: StrategyConfig, a: StrategyConfig): ConfigField[] {
  const out: ConfigField[] = [];
  if (b.strategy_type !== a.strategy_type) out.push('strategy_type');
  if (!sameSet(b.instruments, a.instruments)) out.push('instruments');
  if (!stableDeepEqual(b.parameters, a.parameters)) out.push('parameters');
  if (!sameSet(b.brokers, a.brokers)) out.push('brokers');
  const known = new Set<string>(['strategy_type', 'instruments', 'parameters', 'brokers']);
  const rb = b as unknown as Record<string, unknown>;
  const ra = a as unknown as Record<string, unknown>;
  const others = new Set([...Object.keys(rb), ...Object.keys(ra)]);
  for (const k of others) {
    if (IGNORED.has(k) || known.has(k)) continue;
    if (!stableDeepEqual(rb[k], ra[k])) out.push(k);
  }
  return out.sort(compareIds);
}

function kindOf(fields: readonly ConfigField[]): ConfigChangeKind {
  if (fields.length === 1 && fields[0] === 'parameters') return 'params';
  if (fields.length === 1 && fields[0] === 'instruments') return 'reroute';
  return 'restart';
}

function sameSet<T>(x: readonly T[], y: readonly T[]): boolean {
  const sx = new Set(x);
  const sy = new Set(y);
  if (sx.size !== sy.size) return false;
  for (const v of sx) if (!sy.has(v)) return false;
  return true;
}

/**
 * Deep equality for JSON-like values: plain objects compare by their keys
 * whatever the order (a key holding `undefined` counts as absent), arrays
 * element by element in order, everything else with Object.is.
 */
export function stableDeepEqual(x: unknown, y: unknown): boolean {
  if (Object.is(x, y)) return true;
  if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) return false;
  if (Array.isArray(x) || Array.isArray(y)) {
    if (!Array.isArray(x) || !Array.isArray(y) || x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!stableDeepEqual(x[i], y[i])) return false;
    return true;
  }
  if (!isPlainObject(x) || !isPlainObject(y)) return false;
  const kx = Object.keys(x).filter((k) => x[k] !== undefined);
  const ky = Object.keys(y).filter((k) => y[k] !== undefined);
  if (kx.length !== ky.length) return false;
  for (const k of kx) {
    if (!Object.prototype.hasOwnProperty.call(y, k) || !stableDeepEqual(x[k], y[k])) return false;
  }
  return true;
}

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}
