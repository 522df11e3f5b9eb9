import { describe, it, expect } from 'vitest';
import type { StrategyConfig } from '../../../src/config/strategy-config.js';
import { diffConfigs, isEmptyDiff, stableDeepEqual } from '../../../src/supervision/config-diff.js';

function cfg(id: string, over: Partial<StrategyConfig> = {}): StrategyConfig {
  return {
    id,
    strategy_type: 'SimpleMomentumStrategy',
    instruments: [256265],
    parameters: { lookback_period: 5 },
    is_active: true,
    brokers: ['paper'],
    ...over,
  };
}

const ids = (xs: readonly { id: string }[]): string[] => xs.map((x) => x.id);

describe('diffConfigs', () => {
  it('reports nothing when nothing changed', () => {
    const a = [cfg('a'), cfg('b', { parameters: { x: 1, y: { z: [1, 2] } } })];
    const d = diffConfigs(a, structuredClone(a));
    expect(d).toEqual({ added: [], removed: [], changed: [], unchanged: ['a', 'b'] });
    expect(isEmptyDiff(d)).toBe(true);
  });

  it('reports an added configuration', () => {
    const d = diffConfigs([cfg('a')], [cfg('a'), cfg('b')]);
    expect(ids(d.added)).toEqual(['b']);
    expect(d.removed).toEqual([]);
    expect(d.changed).toEqual([]);
    expect(d.unchanged).toEqual(['a']);
    expect(isEmptyDiff(d)).toBe(false);
  });

  it('reports a removed configuration with its old configuration', () => {
    const old = cfg('b', { parameters: { old: true } });
    const d = diffConfigs([cfg('a'), old], [cfg('a')]);
    expect(d.removed).toEqual([old]);
    expect(d.removed[0]).toBe(old);
    expect(d.added).toEqual([]);
    expect(d.unchanged).toEqual(['a']);
  });

  it('treats a deactivated configuration as removed', () => {
    const d = diffConfigs([cfg('a'), cfg('b')], [cfg('a'), cfg('b', { is_active: false })]);
    expect(ids(d.removed)).toEqual(['b']);
    expect(d.removed[0]!.is_active).toBe(true);
    expect(d.changed).toEqual([]);
  });

  it('treats a reactivated configuration as added', () => {
    const d = diffConfigs([cfg('a', { is_active: false })], [cfg('a')]);
    expect(ids(d.added)).toEqual(['a']);
    expect(d.removed).toEqual([]);
  });

  it('ignores inactive configurations on both sides, even when they differ', () => {
    const d = diffConfigs([cfg('a', { is_active: false })], [cfg('a', { is_active: false, strategy_type: 'Other' })]);
    expect(d).toEqual({ added: [], removed: [], changed: [], unchanged: [] });
  });

  it("classifies a parameters-only change as 'params'", () => {
    const before = cfg('a', { parameters: { lookback_period: 5 } });
    const after = cfg('a', { parameters: { lookback_period: 7 } });
    const d = diffConfigs([before], [after]);
    expect(d.changed).toEqual([{ before, after, kind: 'params', fields: ['parameters'] }]);
    expect(d.unchanged).toEqual([]);
  });

  it('compares parameters whatever the key order, nested too', () => {
    const before = cfg('a', { parameters: { a: 1, b: { c: 2, d: [1, { e: 3, f: 4 }] } } });
    const after = cfg('a', { parameters: { b: { d: [1, { f: 4, e: 3 }], c: 2 }, a: 1 } });
    expect(diffConfigs([before], [after]).unchanged).toEqual(['a']);
  });

  it('sees array order and nested values inside parameters', () => {
    expect(diffConfigs([cfg('a', { parameters: { w: [1, 2] } })], [cfg('a', { parameters: { w: [2, 1] } })]).changed[0]?.kind).toBe('params');
    expect(diffConfigs([cfg('a', { parameters: { n: { x: 1 } } })], [cfg('a', { parameters: { n: { x: '1' } } })]).changed[0]?.kind).toBe('params');
    expect(diffConfigs([cfg('a', { parameters: {} })], [cfg('a', { parameters: { x: null } })]).changed[0]?.kind).toBe('params');
  });

  it("classifies an instruments-only change as 'reroute'", () => {
    const d = diffConfigs([cfg('a', { instruments: [1, 2] })], [cfg('a', { instruments: [1, 3] })]);
    expect(d.changed.map((c) => [c.after.id, c.kind, c.fields])).toEqual([['a', 'reroute', ['instruments']]]);
  });

  it('treats instruments as a set: order and repeats do not matter', () => {
    expect(diffConfigs([cfg('a', { instruments: [1, 2] })], [cfg('a', { instruments: [2, 1] })]).unchanged).toEqual(['a']);
    expect(diffConfigs([cfg('a', { instruments: [1, 2] })], [cfg('a', { instruments: [2, 1, 2] })]).unchanged).toEqual(['a']);
    expect(diffConfigs([cfg('a', { instruments: [1, 2] })], [cfg('a', { instruments: [1, 2, 3] })]).changed[0]?.kind).toBe('reroute');
  });

  it("classifies a brokers change as 'restart' (brokers compared as a set)", () => {
    const d = diffConfigs([cfg('a', { brokers: ['paper'] })], [cfg('a', { brokers: ['paper', 'zerodha'] })]);
    expect(d.changed.map((c) => [c.kind, c.fields])).toEqual([['restart', ['brokers']]]);
    expect(diffConfigs([cfg('a', { brokers: ['paper', 'zerodha'] })], [cfg('a', { brokers: ['zerodha', 'paper'] })]).unchanged).toEqual(['a']);
  });

  it("classifies a strategy_type change as 'restart'", () => {
    const d = diffConfigs([cfg('a')], [cfg('a', { strategy_type: 'MeanReversionStrategy' })]);
    expect(d.changed.map((c) => [c.kind, c.fields])).toEqual([['restart', ['strategy_type']]]);
  });

  it("classifies several changed fields as 'restart', listing them", () => {
    const d = diffConfigs([cfg('a')], [cfg('a', { instruments: [9], parameters: { lookback_period: 9 } })]);
    expect(d.changed.map((c) => [c.kind, c.fields])).toEqual([['restart', ['instruments', 'parameters']]]);
    const e = diffConfigs([cfg('a')], [cfg('a', { strategy_type: 'X', parameters: {} })]);
    expect(e.changed[0]?.kind).toBe('restart');
  });

  it("treats an unknown extra field as a 'restart' change", () => {
    const after = { ...cfg('a'), schedule: 'night' } as StrategyConfig;
    const d = diffConfigs([cfg('a')], [after]);
    expect(d.changed.map((c) => [c.kind, c.fields])).toEqual([['restart', ['schedule']]]);
  });

  it('sorts every list by id whatever the input order', () => {
    const current = [cfg('r2'), cfg('c2'), cfg('u2'), cfg('r1'), cfg('c1', { instruments: [5] }), cfg('u1')];
    const next = [cfg('u1'), cfg('a2'), cfg('c2', { parameters: {} }), cfg('u2'), cfg('a1'), cfg('c1'), cfg('A0')];
    const d = diffConfigs(current, next);
    expect(ids(d.added)).toEqual(['A0', 'a1', 'a2']); // code-unit order: upper case first
    expect(ids(d.removed)).toEqual(['r1', 'r2']);
    expect(d.changed.map((c) => c.after.id)).toEqual(['c1', 'c2']);
    expect(d.unchanged).toEqual(['u1', 'u2']);
    expect(diffConfigs([...current].reverse(), [...next].reverse())).toEqual(d);
  });

  it('does not mutate its inputs', () => {
    const current = Object.freeze([cfg('b'), cfg('a')].map((c) => Object.freeze(c)));
    const next = Object.freeze([cfg('c'), cfg('a', { instruments: [2, 1] })].map((c) => Object.freeze(c)));
    const snapshot = JSON.stringify([current, next]);
    diffConfigs(current, next);
    expect(JSON.stringify([current, next])).toBe(snapshot);
  });

  it('handles empty inputs', () => {
    expect(diffConfigs([], [])).toEqual({ added: [], removed: [], changed: [], unchanged: [] });
    expect(ids(diffConfigs([], [cfg('a')]).added)).toEqual(['a']);
    expect(ids(diffConfigs([cfg('a')], []).removed)).toEqual(['a']);
  });
});

describe('stableDeepEqual', () => {
  it('compares JSON-like values', () => {
    expect(stableDeepEqual({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
    expect(stableDeepEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(stableDeepEqual([1, 2], [2, 1])).toBe(false);
    expect(stableDeepEqual([], {})).toBe(false);
    expect(stableDeepEqual({ a: null }, { a: undefined })).toBe(false);
    expect(stableDeepEqual(1, '1')).toBe(false);
    expect(stableDeepEqual(null, null)).toBe(true);
    expect(stableDeepEqual({ a: [{ b: 1 }] }, { a: [{ b: 1, c: 0 }] })).toBe(false);
  });
});
