import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { migrate, readMigrations } from '../../../../src/transport/postgres/migrator.js';
import { SnapshotStore } from '../../../../src/transport/postgres/snapshot-store.js';
import type { StrategySnapshot } from '../../../../src/snapshots/snapshot.js';
import { freshSchema } from '../../../helpers/infra.js';
import { memoryLogger } from '../../../helpers/runtime.js';

const MIGRATIONS = fileURLToPath(new URL('../../../../sql/migrations/', import.meta.url));

function snap(id: string, state: string, takenAt = '2026-01-02T03:04:05.678Z'): StrategySnapshot {
  return {
    strategyId: id,
    strategyType: 'LongMemory',
    paramsHash: 'h-' + id,
    schemaVersion: 2,
    position: { instruments: { '256265': [1_700_000_000_123, 2] }, partitions: { 'ticks/0': 42 } },
    state,
    runner: 'host-1',
    takenAt,
  };
}

describe('SnapshotStore (PostgreSQL)', () => {
  it('stores and loads snapshots; the state comes back byte for byte (text, not jsonb: key order kept)', async () => {
    const { sql } = await freshSchema();
    await migrate(sql, readMigrations(join(MIGRATIONS)), memoryLogger('silent').logger);
    const store = new SnapshotStore(sql);
    // jsonb would reorder these keys ("b" before "aa": by length) and drop the duplicate-looking spacing
    const state = '{"strategy":{"zz":1,"b":2,"aa":[3,{"y":1,"x":2}]},"runtime":{"clock":null}}';
    await store.save([snap('a', state), snap('b', '{"strategy":null,"runtime":{}}')]);
    const got = await store.load();
    expect([...got.keys()].sort()).toEqual(['a', 'b']);
    expect(got.get('a')).toEqual(snap('a', state));
    expect((await store.load(['b'])).size).toBe(1);
    expect((await store.load([])).size).toBe(0);
  });

  it('a cut replaces each strategy\'s row, in one transaction: all of it or none', async () => {
    const { sql } = await freshSchema();
    await migrate(sql, readMigrations(MIGRATIONS), memoryLogger('silent').logger);
    const store = new SnapshotStore(sql);
    await store.save([snap('a', '{"v":1}'), snap('b', '{"v":1}')]);
    await store.save([snap('a', '{"v":2}', '2026-01-02T03:04:06.000Z')]);
    expect((await store.load()).get('a')).toMatchObject({ state: '{"v":2}', takenAt: '2026-01-02T03:04:06.000Z' });
    // The second row breaks the table's check: the first is not written either.
    await expect(store.save([snap('a', '{"v":3}'), snap('b', 'not json')])).rejects.toThrow(/strategy_snapshots_state_check/);
    const rows = await store.load();
    expect(rows.get('a')!.state).toBe('{"v":2}');
    expect(rows.get('b')!.state).toBe('{"v":1}');
  });
});
