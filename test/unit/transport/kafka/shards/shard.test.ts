import { describe, expect, it } from 'vitest';
import type { Signal } from '../../../../../src/domain/signal.js';
import type { SignalSink } from '../../../../../src/ports.js';
import { shardOf } from '../../../../../src/routing/shard-of.js';
import { Shard } from '../../../../../src/transport/kafka/shards/shard.js';
import { ShardBook } from '../../../../../src/transport/kafka/shards/shard-book.js';
import { ShardSignalGate } from '../../../../../src/transport/kafka/shards/shard-signal-gate.js';

describe('Shard', () => {
  it('moves acquiring → active → releasing → released, or to dropped; nothing else', () => {
    const s = new Shard(3);
    expect(s.state).toBe('acquiring');
    expect([s.takesTicks, s.emits]).toEqual([false, true]);
    s.life.to('active');
    expect([s.takesTicks, s.emits]).toEqual([true, true]);
    s.life.to('releasing');
    expect([s.takesTicks, s.emits]).toEqual([false, true]);
    s.life.to('released');
    expect([s.takesTicks, s.emits]).toEqual([false, false]);
    expect(() => s.life.to('active')).toThrow(expect.objectContaining({ code: 'INVALID_TRANSITION' }));
    const lost = new Shard(1);
    lost.life.to('active');
    lost.life.to('dropped');
    expect(lost.emits).toBe(false);
  });

  it('its phase: warming while a partition is below its warm-up end, catching up while a partition is not joined, then live', () => {
    const s = new Shard(0);
    const p0 = s.addPartition(0, 100, 90, {});
    const p1 = s.addPartition(1, 50, 50, 'main');
    s.life.to('active');
    const mainNext = (p: number): number => (p === 0 ? 200 : 50);
    expect(s.phase(mainNext)).toBe('warming');
    p0.next = 100;
    expect(s.phase(mainNext)).toBe('catching-up');
    p0.feed = 'main';
    p0.joined = true;
    p1.joined = true;
    expect(s.phase(mainNext)).toBe('live');
  });

  it('its position is what was acknowledged per partition; drained() waits for the events in flight', async () => {
    const s = new Shard(0);
    s.addPartition(0, 10, 10, 'main');
    s.addPartition(1, 20, 20, 'main');
    s.life.to('active');
    expect([...s.position()]).toEqual([[0, 10], [1, 20]]);
    expect(s.changed()).toBe(false);
    s.sent();
    s.sent();
    let drained = false;
    const d = s.drained().then(() => (drained = true));
    s.delivered(0, 15);
    s.settled();
    await Promise.resolve();
    expect(drained).toBe(false);
    s.delivered(0, 12); // never backwards
    s.settled();
    await d;
    expect([...s.position()]).toEqual([[0, 15], [1, 20]]);
    expect(s.changed()).toBe(true);
    s.markCommitted(s.position());
    expect(s.changed()).toBe(false);
    s.uncommit();
    expect(s.changed()).toBe(true);
  });
});

describe('ShardSignalGate', () => {
  const signal = (strategyId: string, n: number): Signal =>
    ({ signal_id: `${strategyId}-${n}`, strategy_id: strategyId, strategy_type: 'T', instrument_token: 1, side: 'BUY', quantity: 1, price: 1, tick_timestamp: n, broker: 'paper' }) as Signal;
  const idIn = (shard: number, count: number, not: string[] = []): string => {
    for (let i = 0; ; i++) if (shardOf(`g${i}`, count) === shard && !not.includes(`g${i}`)) return `g${i}`;
  };

  it('publishes the signals of shards held and emitting here, drops and counts the others, in order', async () => {
    const written: Signal[][] = [];
    const inner: SignalSink = { name: 'mem', write: async (s) => void written.push([...s]), flush: async () => undefined, close: async () => undefined };
    const book = new ShardBook(4);
    const held = new Shard(1);
    held.life.to('active');
    book.add(held);
    const releasing = new Shard(2);
    releasing.life.to('active');
    releasing.life.to('releasing');
    book.add(releasing);
    const counters = { droppedSignals: 0 };
    const gate = new ShardSignalGate(inner, book, counters);
    const a = idIn(1, 4);
    const b = idIn(2, 4);
    const gone = idIn(3, 4);
    await gate.write([signal(a, 1), signal(gone, 2), signal(b, 3), signal(a, 4)]);
    expect(written).toEqual([[signal(a, 1), signal(b, 3), signal(a, 4)]]);
    expect([held.signals, releasing.signals, counters.droppedSignals]).toEqual([2, 1, 1]);
    // All held: the same array goes through, no copy.
    const all = [signal(a, 5)];
    await gate.write(all);
    expect(written[1]).toEqual(all);
  });
});
