import { describe, expect, it } from 'vitest';
import { partitionKey } from '../../../../src/transport/kafka/partition-key.js';
import { lagOf, markDelivered, PartitionPositions, planAssignment } from '../../../../src/transport/kafka/partition-position.js';

describe('planAssignment: where an assigned partition starts', () => {
  it('never had it, no commit: the reset policy decides, everything live', () => {
    expect(planAssignment(undefined, 0, undefined, 10_000)).toEqual({ start: undefined, warmUntil: 0, action: 'fresh', gap: 0 });
  });

  it('never had it, committed c (a restart): warm up from c - warmupMessages, live from c', () => {
    expect(planAssignment(undefined, 0, 25_000, 10_000)).toEqual({ start: 15_000, warmUntil: 25_000, action: 'warm-up', gap: 0 });
    expect(planAssignment(undefined, 0, 300, 10_000)).toEqual({ start: 0, warmUntil: 300, action: 'warm-up', gap: 0 });
    expect(planAssignment(undefined, 0, 300, 0)).toEqual({ start: 300, warmUntil: 300, action: 'warm-up', gap: 0 });
  });

  it('had it up to next, the group committed less (a lost session, a rebalance): resume at next, nothing twice', () => {
    expect(planAssignment(18_050, 0, 2_650, 10_000)).toEqual({ start: 18_050, warmUntil: 2_650, action: 'resume', gap: 0 });
    expect(planAssignment(18_050, 0, undefined, 10_000)).toEqual({ start: 18_050, warmUntil: 0, action: 'resume', gap: 0 });
    expect(planAssignment(500, 500, 500, 10_000)).toEqual({ start: 500, warmUntil: 500, action: 'resume', gap: 0 });
  });

  it('lost in the middle of a warm-up: resumes at next and keeps warming up to the same offset', () => {
    expect(planAssignment(16_000, 25_000, 25_000, 10_000)).toMatchObject({ start: 16_000, warmUntil: 25_000, gap: 0 });
  });

  it('another owner went on past next: re-read what the strategies missed as warm-up, live from the commit', () => {
    expect(planAssignment(1_000, 0, 4_000, 10_000)).toEqual({ start: 1_000, warmUntil: 4_000, action: 'rewarm', gap: 0 });
    // Further than the warm-up reaches: the rest is a gap the strategies never see, and it is reported.
    expect(planAssignment(1_000, 0, 30_000, 10_000)).toEqual({ start: 20_000, warmUntil: 30_000, action: 'rewarm', gap: 19_000 });
  });

  it('a negative committed offset (librdkafka\'s "none") counts as no commit', () => {
    expect(planAssignment(undefined, 0, -1001, 10_000).action).toBe('fresh');
    expect(planAssignment(7, 0, -1001, 10_000)).toEqual({ start: 7, warmUntil: 0, action: 'resume', gap: 0 });
  });
});

describe('PartitionPositions', () => {
  it('keeps one position per topic and partition', () => {
    const p = new PartitionPositions();
    p.get('t', 0).next = 5;
    p.get('t', 1).next = 9;
    p.get('u', 0).next = 1;
    expect(p.find('t', 0)?.next).toBe(5);
    expect(p.find('t', 2)).toBeUndefined();
    expect([...p.all()].map((x) => `${x.topic}/${x.partition}=${x.next}`)).toEqual(['t/0=5', 't/1=9', 'u/0=1']);
  });
});

describe('PartitionPositions: delivered and committed offsets (the commit bookkeeping)', () => {
  it('takes each delivered offset once, in order of the partitions, and never moves back', () => {
    const p = new PartitionPositions();
    markDelivered(p.get('t', 0), 10);
    markDelivered(p.get('t', 1), 4);
    expect(p.takeCommits()).toEqual([
      { topic: 't', partition: 0, offset: 10 },
      { topic: 't', partition: 1, offset: 4 },
    ]);
    expect(p.takeCommits()).toEqual([]);
    markDelivered(p.get('t', 0), 7);
    expect(p.find('t', 0)!.delivered).toBe(10);
    expect(p.takeCommits()).toEqual([]);
    markDelivered(p.get('t', 0), 12);
    expect(p.takeCommits()).toEqual([{ topic: 't', partition: 0, offset: 12 }]);
  });

  it('the group\'s committed offset is a floor: not committed again, nothing below it ever', () => {
    const p = new PartitionPositions();
    p.floor('t', 0, 500);
    expect(p.find('t', 0)).toMatchObject({ delivered: 500, committed: 500 });
    expect(p.takeCommits()).toEqual([]);
    markDelivered(p.get('t', 0), 300);
    expect(p.takeCommits()).toEqual([]);
    p.floor('t', 0, 400);
    expect(p.find('t', 0)).toMatchObject({ delivered: 500, committed: 500 });
  });

  it('a failed commit is put back and taken again by the next one', () => {
    const p = new PartitionPositions();
    markDelivered(p.get('t', 0), 10);
    const list = p.takeCommits();
    p.restore(list);
    expect(p.find('t', 0)!.committed).toBeUndefined();
    expect(p.takeCommits()).toEqual(list);
  });

  it('a partition never delivered (the fills topic) has nothing to commit', () => {
    const p = new PartitionPositions();
    p.get('fills', 0).next = 99;
    expect(p.takeCommits()).toEqual([]);
  });

  it('lag: the log end minus the position, a partition not read yet counting from 0', () => {
    const p = new PartitionPositions();
    const x = p.get('t', 0);
    x.high = 50;
    expect(lagOf(x)).toBe(50);
    x.next = 45;
    expect(lagOf(x)).toBe(5);
    x.next = 60;
    expect(lagOf(x)).toBe(0);
  });
});

describe('partitionKey', () => {
  it('one key per topic and partition, no collision between topic names that end in digits', () => {
    expect(partitionKey('a', 1)).toBe(partitionKey('a', 1));
    expect(partitionKey('a1', 1)).not.toBe(partitionKey('a', 11));
  });
});
