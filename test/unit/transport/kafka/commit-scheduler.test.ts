import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { CommitScheduler } from '../../../../src/transport/kafka/commit-scheduler.js';
import { inputCounters } from '../../../../src/transport/kafka/input-context.js';
import { markDelivered, PartitionPositions, type TopicPartitionOffset } from '../../../../src/transport/kafka/partition-position.js';
import { sleep } from '../../../../src/timing/sleep.js';

const log = pino({ level: 'silent' });

function setup(commit: (list: TopicPartitionOffset[]) => readonly { topic: string; partition: number }[] = () => []) {
  const positions = new PartitionPositions();
  const counters = inputCounters();
  const sent: TopicPartitionOffset[][] = [];
  const s = new CommitScheduler(positions, counters, log, () => (list) => {
    sent.push(list);
    return commit(list);
  });
  return { positions, counters, sent, s };
}

describe('CommitScheduler', () => {
  it('hands over what was delivered since the last commit; counts the commits the broker acknowledges', () => {
    const { positions, counters, sent, s } = setup();
    s.commit();
    expect(sent).toEqual([]);
    markDelivered(positions.get('t', 0), 5);
    s.commit();
    s.commit();
    expect(sent).toEqual([[{ topic: 't', partition: 0, offset: 5 }]]);
    expect(counters.commits).toBe(0);
    s.answered(undefined, [{ topic: 't', partition: 0 }]);
    expect(counters).toMatchObject({ commits: 1, commitErrors: 0 });
  });

  it('a commit the client refuses is counted and retried by the next one; commit() never throws', () => {
    let fail = true;
    const { positions, counters, sent, s } = setup(() => {
      if (fail) throw new Error('not connected');
      return [];
    });
    markDelivered(positions.get('t', 0), 5);
    expect(() => s.commit()).not.toThrow();
    expect(counters.commitErrors).toBe(1);
    fail = false;
    s.commit();
    expect(sent.at(-1)).toEqual([{ topic: 't', partition: 0, offset: 5 }]);
  });

  it('a commit the broker refuses (the whole request, or one partition) is counted and its offsets taken again', () => {
    const { positions, counters, sent, s } = setup();
    markDelivered(positions.get('t', 0), 5);
    markDelivered(positions.get('t', 1), 8);
    s.commit();
    s.answered({ code: 27, message: 'REBALANCE_IN_PROGRESS' }, [{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }]);
    expect(counters).toMatchObject({ commits: 0, commitErrors: 1 });
    s.commit();
    expect(sent.at(-1)).toEqual([{ topic: 't', partition: 0, offset: 5 }, { topic: 't', partition: 1, offset: 8 }]);
    s.answered(undefined, [{ topic: 't', partition: 0 }, { topic: 't', partition: 1, error: { code: 25 } }]);
    expect(counters).toMatchObject({ commits: 0, commitErrors: 2 });
    s.commit();
    expect(sent.at(-1)).toEqual([{ topic: 't', partition: 1, offset: 8 }]);
  });

  it('offsets the committer leaves out (a partition not assigned now) wait for the next commit, not counted as errors', () => {
    let owned = false;
    const { positions, counters, sent, s } = setup((list) => (owned ? [] : list));
    markDelivered(positions.get('t', 0), 5);
    s.commit();
    expect(counters.commitErrors).toBe(0);
    owned = true;
    s.commit();
    expect(sent).toEqual([[{ topic: 't', partition: 0, offset: 5 }], [{ topic: 't', partition: 0, offset: 5 }]]);
    s.commit();
    expect(sent).toHaveLength(2);
  });

  it('no consumer yet: nothing is taken, so nothing is lost', () => {
    const positions = new PartitionPositions();
    let consumer = false;
    const sent: TopicPartitionOffset[][] = [];
    const s = new CommitScheduler(positions, inputCounters(), log, () => (consumer ? (list) => (sent.push(list), []) : undefined));
    markDelivered(positions.get('t', 0), 3);
    expect(() => s.commit()).not.toThrow();
    consumer = true;
    s.commit();
    expect(sent).toEqual([[{ topic: 't', partition: 0, offset: 3 }]]);
  });

  it('commits on its interval until stopped', async () => {
    const { positions, sent, s } = setup();
    s.start(50);
    markDelivered(positions.get('t', 0), 1);
    for (let i = 0; i < 100 && sent.length === 0; i++) await sleep(10);
    s.stop();
    expect(sent).toHaveLength(1);
    markDelivered(positions.get('t', 0), 2);
    await sleep(150);
    expect(sent).toHaveLength(1);
  });
});
