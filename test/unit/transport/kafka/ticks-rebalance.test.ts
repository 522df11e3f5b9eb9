import { describe, expect, it } from 'vitest';
import type { PartitionId } from '../../../../src/transport/kafka/partition-key.js';
import { TicksRebalance, type CommittedOffset } from '../../../../src/transport/kafka/ticks-rebalance.js';
import { testContext } from './helpers.js';

const tp = (...ps: number[]): PartitionId[] => ps.map((partition) => ({ topic: 't', partition }));

function setup(answers: (parts: PartitionId[]) => CommittedOffset[] | Error, warmupMessages = 100) {
  const ctx = testContext({ consumer: { warmupMessages, queueBatches: 10 } });
  let calls = 0;
  const r = new TicksRebalance(ctx, async (parts) => {
    calls++;
    const a = answers(parts);
    if (a instanceof Error) throw a;
    return a;
  });
  return { ctx, r, calls: () => calls };
}

describe('TicksRebalance: where each assigned ticks partition starts', () => {
  it('a restart: warm up from committed - warmupMessages, live from the commit, the commit a floor', async () => {
    const { ctx, r } = setup(() => [{ partition: 0, offset: 250 }, { partition: 1 }]);
    expect(await r.assigned(tp(0, 1))).toEqual([{ topic: 't', partition: 0, offset: 150 }, { topic: 't', partition: 1 }]);
    expect(ctx.positions.find('t', 0)).toMatchObject({ next: 150, warmUntil: 250, high: 250, delivered: 250, committed: 250 });
    expect(ctx.positions.find('t', 1)).toMatchObject({ next: undefined, warmUntil: 0, delivered: undefined });
    expect(ctx.counters.assignments).toBe(2);
  });

  it('a partition that comes back after a lost session resumes at its own position', async () => {
    const { ctx, r } = setup(() => [{ partition: 0, offset: 40 }]);
    ctx.positions.get('t', 0).next = 90;
    r.revoked(tp(0), true);
    expect(ctx.counters).toMatchObject({ revocations: 1, lostPartitions: 1 });
    expect(await r.assigned(tp(0))).toEqual([{ topic: 't', partition: 0, offset: 90 }]);
    expect(ctx.positions.find('t', 0)).toMatchObject({ next: 90, warmUntil: 40 });
  });

  it('another owner went on: re-warm what it processed, with the gap beyond the warm-up', async () => {
    const { ctx, r } = setup(() => [{ partition: 0, offset: 1000 }]);
    ctx.positions.get('t', 0).next = 10;
    expect(await r.assigned(tp(0))).toEqual([{ topic: 't', partition: 0, offset: 900 }]);
    expect(ctx.positions.find('t', 0)).toMatchObject({ next: 900, warmUntil: 1000 });
  });

  it('a revocation keeps the positions and counts', async () => {
    const { ctx, r } = setup(() => []);
    ctx.positions.get('t', 0).next = 5;
    r.revoked(tp(0, 1), false);
    expect(ctx.counters).toMatchObject({ revocations: 2, lostPartitions: 0 });
    expect(ctx.positions.find('t', 0)!.next).toBe(5);
  });

  it('committed offsets: a partition answered with an error is retried, not read as "no commit"', async () => {
    let n = 0;
    const { r, calls } = setup(() => (++n === 1 ? [{ partition: 0, error: { code: 16, message: 'NOT_COORDINATOR' } }] : [{ partition: 0, offset: 7 }]));
    expect(await r.committedOffsets([{ topic: 't', partition: 0 }])).toEqual(new Map([[0, 7]]));
    expect(calls()).toBe(2);
  });

  it('committed offsets: no commit, and librdkafka\'s invalid offset (-1001), both read as "no commit"', async () => {
    const { r } = setup(() => [{ partition: 0 }, { partition: 1, offset: -1001 }, { partition: 2, offset: 0 }]);
    expect(await r.committedOffsets(tp(0, 1, 2))).toEqual(new Map([[2, 0]]));
  });

  it('committed offsets: a stop ends the retries with nothing', async () => {
    const { ctx, r } = setup(() => new Error('coordinator loading'));
    const p = r.committedOffsets([{ topic: 't', partition: 0 }]);
    setTimeout(() => ctx.stop.abort(), 50);
    expect(await p).toEqual(new Map());
  });
});
