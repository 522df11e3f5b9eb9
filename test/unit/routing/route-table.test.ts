import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { RouteTable, type Placement } from '../../../src/routing/route-table.js';

const P = (strategyId: string, instruments: number[], host: number, slot: number): Placement => ({ strategyId, instruments, host, slot });

describe('RouteTable.empty', () => {
  it('routes nothing', () => {
    const t = RouteTable.empty();
    expect(t.lookup(1)).toBeUndefined();
    expect(t.instrumentCount).toBe(0);
    expect(t.strategyCount).toBe(0);
    expect(t.strategiesFor(1)).toEqual([]);
  });
});

describe('RouteTable.build / lookup', () => {
  // host 0: a (slot 0) wants 100, 200; b (slot 1) wants 100
  // host 1: c (slot 0) wants 100, 300; d (slot 1) wants 300
  // host 2: e (slot 0) wants 200
  const table = RouteTable.build([
    P('a', [100, 200], 0, 0),
    P('b', [100], 0, 1),
    P('c', [100, 300], 1, 0),
    P('d', [300], 1, 1),
    P('e', [200], 2, 0),
  ]);

  it('groups the targets of a token per host, hosts in ascending order, encoded as [n, ...slots]', () => {
    expect(table.lookup(100)).toEqual([
      { host: 0, encoded: [2, 0, 1], strategyIds: ['a', 'b'] },
      { host: 1, encoded: [1, 0], strategyIds: ['c'] },
    ]);
    expect(table.lookup(200)).toEqual([
      { host: 0, encoded: [1, 0], strategyIds: ['a'] },
      { host: 2, encoded: [1, 0], strategyIds: ['e'] },
    ]);
    expect(table.lookup(300)).toEqual([{ host: 1, encoded: [2, 0, 1], strategyIds: ['c', 'd'] }]);
  });

  it('returns undefined for a token nobody wants', () => {
    expect(table.lookup(999)).toBeUndefined();
    expect(table.lookup(0)).toBeUndefined();
  });

  it('counts instruments and strategies', () => {
    expect(table.instrumentCount).toBe(3); // 100, 200, 300
    expect(table.strategyCount).toBe(5);
  });

  it('lists the strategies of a token, sorted', () => {
    expect(table.strategiesFor(100)).toEqual(['a', 'b', 'c']);
    expect(table.strategiesFor(200)).toEqual(['a', 'e']);
    expect(table.strategiesFor(300)).toEqual(['c', 'd']);
    expect(table.strategiesFor(999)).toEqual([]);
  });

  it('returns frozen targets that cannot be changed by a caller', () => {
    const targets = table.lookup(100)!;
    expect(Object.isFrozen(targets)).toBe(true);
    expect(Object.isFrozen(targets[0])).toBe(true);
    expect(Object.isFrozen(targets[0]!.encoded)).toBe(true);
    expect(() => (targets[0]!.encoded as number[]).push(7)).toThrow();
    expect(table.lookup(100)![0]!.encoded).toEqual([2, 0, 1]);
  });

  it('sorts hosts even when placements arrive in another order', () => {
    const t = RouteTable.build([P('z', [5], 3, 0), P('y', [5], 1, 4), P('x', [5], 2, 2)]);
    expect(t.lookup(5)!.map((r) => r.host)).toEqual([1, 2, 3]);
    expect(t.lookup(5)!.map((r) => r.encoded)).toEqual([[1, 4], [1, 2], [1, 0]]);
  });

  it('keeps the placement order of slots within a host', () => {
    const t = RouteTable.build([P('s3', [5], 0, 3), P('s1', [5], 0, 1), P('s2', [5], 0, 2)]);
    expect(t.lookup(5)).toEqual([{ host: 0, encoded: [3, 3, 1, 2], strategyIds: ['s3', 's1', 's2'] }]);
    // strategiesFor sorts; lookup keeps slot order
    expect(t.strategiesFor(5)).toEqual(['s1', 's2', 's3']);
  });
});

describe('RouteTable: duplicates and edge cases', () => {
  it('routes a strategy listing an instrument twice only once', () => {
    const t = RouteTable.build([P('dup', [7, 7, 8, 7], 0, 0)]);
    expect(t.lookup(7)).toEqual([{ host: 0, encoded: [1, 0], strategyIds: ['dup'] }]);
    expect(t.lookup(8)).toEqual([{ host: 0, encoded: [1, 0], strategyIds: ['dup'] }]);
    expect(t.instrumentCount).toBe(2);
    expect(t.strategiesFor(7)).toEqual(['dup']);
  });

  it('counts a strategy with no instruments but routes nothing for it', () => {
    const t = RouteTable.build([P('idle', [], 0, 0)]);
    expect(t.strategyCount).toBe(1);
    expect(t.instrumentCount).toBe(0);
  });

  it('does not keep a reference to the caller’s instrument arrays', () => {
    const instruments = [1];
    const t = RouteTable.build([P('a', instruments, 0, 0)]);
    instruments.push(2);
    expect(t.lookup(2)).toBeUndefined();
  });

  it('every (strategy, instrument) pair appears exactly once across the targets (property)', () => {
    const placements = fc
      .array(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 6 }), { maxLength: 12 })
      .chain((lists) =>
        fc.tuple(...lists.map(() => fc.integer({ min: 0, max: 3 }))).map((hosts) => {
          const nextSlot = new Map<number, number>();
          return lists.map((instruments, i) => {
            const host = hosts[i]!;
            const slot = nextSlot.get(host) ?? 0;
            nextSlot.set(host, slot + 1);
            return P(`s${i}`, instruments, host, slot);
          });
        }),
      );
    fc.assert(
      fc.property(placements, (ps) => {
        const t = RouteTable.build(ps);
        const tokens = new Set(ps.flatMap((p) => p.instruments));
        expect(t.instrumentCount).toBe(tokens.size);
        for (const token of tokens) {
          const targets = t.lookup(token)!;
          const seen: string[] = [];
          for (const target of targets) {
            expect(target.encoded[0]).toBe(target.encoded.length - 1);
            expect(target.strategyIds).toHaveLength(target.encoded[0]!);
            target.strategyIds.forEach((id, k) => {
              const p = ps.find((x) => x.strategyId === id)!;
              expect(p.host).toBe(target.host);
              expect(p.slot).toBe(target.encoded[k + 1]);
              seen.push(id);
            });
          }
          const expected = ps.filter((p) => p.instruments.includes(token)).map((p) => p.strategyId).sort();
          expect(seen.sort()).toEqual(expected);
        }
      }),
    );
  });
});
