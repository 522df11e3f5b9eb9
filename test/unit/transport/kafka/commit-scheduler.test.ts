import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { CommitScheduler } from '../../../../src/transport/kafka/commit-scheduler.js';
import { inputCounters } from '../../../../src/transport/kafka/input-context.js';
import { markDelivered, PartitionPositions, type TopicPartitionOffset } from '../../../../src/transport/kafka/partition-position.js';
import { sleep } from '../../../../src/timing/sleep.js';

const log = pino({ level: 'silent' });

describe('CommitScheduler', () => {
  it('commits what was delivered since the last commit, and counts it', async () => {
    const positions = new PartitionPositions();
    const counters = inputCounters();
    const sent: TopicPartitionOffset[][] = [];
    const s = new CommitScheduler(positions, counters, log, () => async (list) => void sent.push(list));
    await s.commit();
    expect(sent).toEqual([]);
    markDelivered(positions.get('t', 0), 5);
    await s.commit();
    await s.commit();
    expect(sent).toEqual([[{ topic: 't', partition: 0, offset: '5' }]]);
    expect(counters.commits).toBe(1);
  });

  it('a failed commit is counted and retried by the next one; commit() never rejects', async () => {
    const positions = new PartitionPositions();
    const counters = inputCounters();
    let fail = true;
    const sent: TopicPartitionOffset[][] = [];
    const s = new CommitScheduler(positions, counters, log, () => async (list) => {
      if (fail) throw new Error('coordinator away');
      sent.push(list);
    });
    markDelivered(positions.get('t', 0), 5);
    await expect(s.commit()).resolves.toBeUndefined();
    expect(counters.commitErrors).toBe(1);
    fail = false;
    await s.commit();
    expect(sent).toEqual([[{ topic: 't', partition: 0, offset: '5' }]]);
  });

  it('no consumer yet: nothing is sent', async () => {
    const positions = new PartitionPositions();
    const s = new CommitScheduler(positions, inputCounters(), log, () => undefined);
    await expect(s.commit()).resolves.toBeUndefined();
  });

  it('commits on its interval until stopped', async () => {
    const positions = new PartitionPositions();
    const counters = inputCounters();
    const s = new CommitScheduler(positions, counters, log, () => async () => {});
    s.start(50);
    markDelivered(positions.get('t', 0), 1);
    for (let i = 0; i < 100 && counters.commits === 0; i++) await sleep(10);
    s.stop();
    expect(counters.commits).toBe(1);
    markDelivered(positions.get('t', 0), 2);
    await sleep(150);
    expect(counters.commits).toBe(1);
  });
});
