import { describe, expect, it } from 'vitest';
import { ShardTxn, type PendingSignal } from '../../../../../src/transport/kafka/transactions/shard-txn.js';

const signal = (round: number, n: number): PendingSignal => ({ round, topic: 'paper.signals.raw', value: Buffer.from(`s${n}`), key: '1', headers: undefined });
const dl = (partition: number, offset: number) => ({ partition, offset, topic: 'dlq', value: Buffer.from('bad'), key: null, headers: [] });
const names = (list: PendingSignal[]): string[] => list.map((s) => s.value.toString());

describe('ShardTxn', () => {
  it('takes the signals of settled rounds only, in arrival order, and keeps the rest for a later transaction', () => {
    const t = new ShardTxn(3);
    // Parts of rounds arrive out of round order (one thread ahead of another).
    for (const [round, n] of [[1, 1], [3, 2], [2, 3], [1, 4], [4, 5]] as const) t.add(signal(round, n), 1000);
    expect(names(t.takeSignals(2))).toEqual(['s1', 's3', 's4']);
    expect(names(t.signals)).toEqual(['s2', 's5']);
    expect(t.waitingSince).toBe(1000);
  });

  it('takes a dead letter only once the position has passed its record (committing it earlier would dead-letter it again after a failover)', () => {
    const t = new ShardTxn(0);
    t.addDeadLetter(dl(0, 10), 5);
    t.addDeadLetter(dl(1, 7), 5);
    t.addDeadLetter(dl(0, 20), 5);
    const taken = t.takeDeadLetters(new Map([[0, 11], [1, 7]]));
    expect(taken.map((d) => `${d.partition}@${d.offset}`)).toEqual(['0@10']);
    expect(t.deadLetters.map((d) => `${d.partition}@${d.offset}`)).toEqual(['1@7', '0@20']);
  });

  it('a transaction that did not commit puts its content back first, in its order', () => {
    const t = new ShardTxn(0);
    t.add(signal(1, 1), 0);
    t.add(signal(1, 2), 0);
    const taken = t.takeSignals(1);
    t.add(signal(2, 3), 0);
    t.putBack(taken, [], 7);
    expect(names(t.signals)).toEqual(['s1', 's2', 's3']);
  });

  it('after a commit, what still waits has waited since then; nothing waiting: no open age', () => {
    const t = new ShardTxn(0);
    t.add(signal(1, 1), 100);
    t.add(signal(2, 2), 150);
    t.committed(4, t.takeSignals(1).length, 0, 200);
    expect(t.waitingSince).toBe(200);
    t.committed(3, t.takeSignals(2).length, 0, 300);
    expect(t.waitingSince).toBeUndefined();
    expect(t.stats).toMatchObject({ committed: 2, signals: 2, lastMs: 3, maxMs: 4, totalMs: 7 });
  });

  it('discard drops everything and closes it', () => {
    const t = new ShardTxn(0);
    t.add(signal(1, 1), 0);
    t.addDeadLetter(dl(0, 1), 0);
    expect(t.discard()).toBe(1);
    expect([t.signals.length, t.deadLetters.length, t.closed, t.waitingSince]).toEqual([0, 0, true, undefined]);
  });
});
