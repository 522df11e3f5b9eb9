import { describe, expect, it, onTestFinished } from 'vitest';
import { TopicAdmin } from '../../../../src/transport/kafka/topic-admin.js';
import { createTopics, kafka, produce, unique } from '../../../helpers/infra.js';
import { eventually } from '../../../helpers/service.js';

function admin(): TopicAdmin {
  const a = new TopicAdmin(kafka());
  onTestFinished(() => a.close());
  return a;
}

function deleteAfter(topics: string[]): void {
  onTestFinished(async () => {
    const a = kafka().admin();
    await a.connect();
    await a.deleteTopics({ topics }).catch(() => {});
    await a.disconnect();
  });
}

describe('TopicAdmin against the broker', () => {
  it('names the missing topics, each once, in the order given', async () => {
    const have = unique('ta-have');
    await createTopics([have]);
    const none = unique('ta-none');
    const a = admin();
    await eventually('the created topic in the metadata', () => a.missingTopics([have]), (m) => m.length === 0);
    expect(await a.missingTopics([none, have, none], 5000)).toEqual([none]);
  });

  it('creates topics with the partitions asked; a second create of the same topics answers false', async () => {
    const a = admin();
    const t = unique('ta-new');
    deleteAfter([t]);
    expect(await a.createTopics([t], { partitions: 3, replicationFactor: 1 })).toBe(true);
    // A topic just created reaches the broker's metadata a moment later.
    await eventually('the topic in the metadata', () => a.missingTopics([t]), (m) => m.length === 0);
    expect((await a.watermarks(t)).map((w) => w.partition).sort()).toEqual([0, 1, 2]);
    expect(await a.createTopics([t], { partitions: 3, replicationFactor: 1 })).toBe(false);
    expect(await a.createTopics([t], { partitions: 3, replicationFactor: 1 }, { tolerateRace: true })).toBe(false);
  });

  it('watermarks: low and high offsets as numbers, per partition', async () => {
    const t = unique('ta-wm');
    await createTopics([t]);
    await produce(t, [{ value: 'a' }, { value: 'b' }, { value: 'c' }]);
    expect(await admin().watermarks(t)).toEqual([{ topic: t, partition: 0, low: 0, high: 3 }]);
  });

  it('close() without a call connects nothing; a closed admin connects again when used', async () => {
    const a = new TopicAdmin(kafka());
    await a.close();
    const t = unique('ta-re');
    await createTopics([t]);
    await eventually('the topic in the metadata', () => a.missingTopics([t]), (m) => m.length === 0);
    await a.close();
    expect(await a.missingTopics([t])).toEqual([]);
    await a.close();
  });
});
