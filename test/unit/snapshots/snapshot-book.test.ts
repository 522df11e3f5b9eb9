import { describe, it, expect } from 'vitest';
import { z } from 'zod';
import { SnapshotBook, configHash } from '../../../src/snapshots/snapshot-book.js';
import { paramsHash, stableJson, type StrategySnapshot } from '../../../src/snapshots/snapshot.js';
import { StrategyRegistry } from '../../../src/strategies/registry.js';
import { defineStrategy } from '../../../src/strategies/sdk/index.js';
import type { StrategyConfig } from '../../../src/config/strategy-config.js';
import { memoryLogger } from '../../helpers/runtime.js';

const config = (over: Partial<StrategyConfig> = {}): StrategyConfig => ({ id: 'x', strategy_type: 'Saver', instruments: [2, 1], parameters: { a: 1, b: { c: 2 } }, is_active: true, brokers: ['paper'], ...over });

function book(version?: number) {
  const reg = new StrategyRegistry({ builtins: false });
  reg.register(defineStrategy({ type: 'Saver', params: z.object({}).loose(), ...(version === undefined ? {} : { snapshotVersion: version }), create: () => ({ onTick: () => undefined }) }));
  const { logger, lines } = memoryLogger('info');
  const b = new SnapshotBook(logger);
  b.useRegistry(reg);
  return { b, lines };
}

const snapOf = (c: StrategyConfig, schemaVersion = 1): StrategySnapshot => ({
  strategyId: c.id,
  strategyType: c.strategy_type,
  paramsHash: configHash(c),
  schemaVersion,
  position: { instruments: {}, partitions: {} },
  state: '{"strategy":1,"runtime":{}}',
  runner: 'r',
  takenAt: '2026-01-01T00:00:00.000Z',
});

describe('SnapshotBook', () => {
  it('hands a snapshot to the same type, parameters (any key order) and instruments (any order)', () => {
    const { b } = book();
    b.put(snapOf(config()));
    expect(b.forStart(config({ parameters: { b: { c: 2 }, a: 1 }, instruments: [1, 2] }))).toBe('{"strategy":1,"runtime":{}}');
  });

  it.each([
    ['other parameters', config({ parameters: { a: 2, b: { c: 2 } } }), 'taken under other parameters or instruments'],
    ['other instruments', config({ instruments: [1, 2, 3] }), 'taken under other parameters or instruments'],
    ['another type', config({ strategy_type: 'Other' }), "taken for type 'Saver', the strategy is now 'Other'"],
  ])('ignores one taken under %s, with a warning, and forgets it', (_what, now, reason) => {
    const { b, lines } = book();
    b.put(snapOf(config()));
    expect(b.forStart(now)).toBeUndefined();
    expect(lines.find((l) => l['msg'] === 'snapshot ignored: warming up from ticks instead')).toMatchObject({ strategy_id: 'x', reason });
    expect(b.counts.stale).toBe(1);
    expect(b.get('x')).toBeUndefined();
  });

  it("ignores one of another snapshotVersion than the definition's", () => {
    const { b, lines } = book(2);
    b.put(snapOf(config(), 1));
    expect(b.usable(config())).toBeUndefined();
    expect(b.forStart(config())).toBeUndefined();
    expect(lines.at(-1)).toMatchObject({ reason: "snapshotVersion 1, the strategy's is now 2" });
  });

  it('counts what strategies did with theirs', () => {
    const { b } = book();
    b.put(snapOf(config()));
    b.used(config(), 'loaded');
    b.used(config(), { discarded: 'onLoad threw: bad' });
    expect(b.counts).toMatchObject({ loaded: 1, discarded: 1 });
    expect(b.get('x')).toBeUndefined();
  });
});

describe('stableJson and paramsHash', () => {
  it('equal values give equal text whatever the key order; undefined keys are left out', () => {
    expect(stableJson({ b: [1, { y: 2, x: undefined, w: null }], a: 'q' })).toBe('{"a":"q","b":[1,{"w":null,"y":2}]}');
    expect(paramsHash('T', { a: 1, b: 2 })).toBe(paramsHash('T', { b: 2, a: 1 }));
    expect(paramsHash('T', { a: 1 })).not.toBe(paramsHash('U', { a: 1 }));
  });
});
