import { describe, expect, it } from 'vitest';
import type { TickBatch } from '../../../../src/ports.js';
import { TickHandler } from '../../../../src/transport/kafka/tick-handler.js';
import { messagesOf, partitionView, testContext, tickJson } from './helpers.js';

function setup(high: Record<number, number> = {}, revoked: number[] = []) {
  const ctx = testContext();
  const view = partitionView(high, revoked);
  const handler = new TickHandler(ctx, view);
  return { ctx, handler, view };
}

const prices = (e: unknown): number[] => (e as TickBatch).ticks.map((t) => t.last_price);

describe('TickHandler: the messages of one consume()', () => {
  it('a fresh partition: every tick live, the position moves past them, delivery marks it committable', async () => {
    const { ctx, handler } = setup({ 0: 7 });
    await handler.onMessages(messagesOf('t', 0, 0, [tickJson(1, 10), tickJson(1, 11)]));
    expect(ctx.events).toHaveLength(1);
    const e = ctx.events[0] as TickBatch;
    expect(e.warmup).toBeUndefined();
    expect(prices(e)).toEqual([10, 11]);
    const p = ctx.positions.find('t', 0)!;
    expect(p.next).toBe(2);
    expect(p.high).toBe(7);
    expect(p.lastBatchAt).toBeGreaterThan(0);
    expect(p.delivered).toBeUndefined();
    e.onDelivered!();
    expect(p.delivered).toBe(2);
    expect(ctx.counters.ticks).toBe(2);
  });

  it('below the warm-up limit: warm-up ticks (no commit), the rest live', async () => {
    const { ctx, handler } = setup();
    const p = ctx.positions.get('t', 0);
    p.next = 10;
    p.warmUntil = 12;
    await handler.onMessages(messagesOf('t', 0, 10, [tickJson(1, 10), tickJson(1, 11), tickJson(1, 12), tickJson(1, 13)]));
    expect(ctx.events.map((e) => [(e as TickBatch).warmup === true, prices(e)])).toEqual([
      [true, [10, 11]],
      [false, [12, 13]],
    ]);
    expect(ctx.counters.warmupTicks).toBe(2);
    expect(ctx.counters.ticks).toBe(2);
    expect(p.next).toBe(14);
  });

  it('messages wholly in the warm-up: one warm-up event, nothing to commit', async () => {
    const { ctx, handler } = setup();
    const p = ctx.positions.get('t', 0);
    p.next = 0;
    p.warmUntil = 100;
    await handler.onMessages(messagesOf('t', 0, 0, [tickJson(1, 10), 'not json']));
    expect(ctx.events).toHaveLength(1);
    expect((ctx.events[0] as TickBatch).warmup).toBe(true);
    // A bad record in the warm-up range was dead-lettered the first time.
    expect(ctx.dead).toHaveLength(0);
    expect(p.next).toBe(2);
  });

  it('redelivered below the position: skipped and counted, never dispatched twice', async () => {
    const { ctx, handler } = setup();
    const p = ctx.positions.get('t', 0);
    p.next = 5;
    await handler.onMessages(messagesOf('t', 0, 2, [tickJson(1, 2), tickJson(1, 3), tickJson(1, 4)]));
    expect(ctx.events).toHaveLength(0);
    expect(ctx.counters.redeliveredTicks).toBe(3);
    await handler.onMessages(messagesOf('t', 0, 3, [tickJson(1, 3), tickJson(1, 4), tickJson(1, 5), tickJson(1, 6)]));
    expect(ctx.counters.redeliveredTicks).toBe(5);
    expect(prices(ctx.events[0])).toEqual([5, 6]);
    expect(p.next).toBe(7);
  });

  it('several partitions in one consume(): one live event in arrival order, each partition marked up to its own last offset', async () => {
    const { ctx, handler } = setup({ 0: 50, 1: 9, 2: 30 });
    ctx.positions.get('t', 1).next = 5;
    ctx.positions.get('t', 1).warmUntil = 7;
    const messages = [
      ...messagesOf('t', 0, 40, [tickJson(1, 40), tickJson(1, 41)]),
      ...messagesOf('t', 1, 5, [tickJson(2, 5), tickJson(2, 6), tickJson(2, 7)]),
      ...messagesOf('t', 2, 20, [tickJson(3, 20)]),
      ...messagesOf('t', 0, 42, [tickJson(1, 42)]),
    ];
    await handler.onMessages(messages);
    expect(ctx.events.map((e) => [(e as TickBatch).warmup === true, prices(e)])).toEqual([
      [true, [5, 6]],
      [false, [40, 41, 7, 20, 42]],
    ]);
    expect([0, 1, 2].map((p) => ctx.positions.find('t', p)!.next)).toEqual([43, 8, 21]);
    expect([0, 1, 2].map((p) => ctx.positions.find('t', p)!.high)).toEqual([50, 9, 30]);
    (ctx.events[1] as TickBatch).onDelivered!();
    expect([0, 1, 2].map((p) => ctx.positions.find('t', p)!.delivered)).toEqual([43, 8, 21]);
  });

  it('a partition revoked before its messages were handled: not dispatched, its position untouched, counted', async () => {
    const { ctx, handler } = setup({}, [1]);
    ctx.positions.get('t', 1).next = 5;
    await handler.onMessages([...messagesOf('t', 1, 5, [tickJson(2, 5), tickJson(2, 6)]), ...messagesOf('t', 0, 0, [tickJson(1, 1)])]);
    expect(prices(ctx.events[0])).toEqual([1]);
    expect(ctx.positions.find('t', 1)).toMatchObject({ next: 5, lastBatchAt: 0 });
    expect(ctx.counters.revokedTicks).toBe(2);
    expect(ctx.counters.ticks).toBe(1);
  });

  it('a bad record and a tombstone in live messages: dead-lettered with where they came from, the stream goes on', async () => {
    const { ctx, handler } = setup();
    await handler.onMessages(messagesOf('t', 3, 40, [tickJson(1, 10), '{"instrument_token":1}', null, tickJson(1, 11)]));
    expect(prices(ctx.events[0])).toEqual([10, 11]);
    expect(ctx.dead.map((d) => [d.code, d.topic, d.partition, d.offset])).toEqual([
      ['TICK_INVALID', 't', 3, '41'],
      ['TICK_INVALID', 't', 3, '42'],
    ]);
    expect(ctx.dead[1]!.reason).toBe('empty value (tombstone)');
    expect(ctx.dead[0]!.key).toEqual(Buffer.from('k'));
    expect(ctx.counters.badTicks).toBe(2);
  });

  it('only bad records live: the event still comes (empty) so that the partition is committed past them', async () => {
    const { ctx, handler } = setup();
    await handler.onMessages(messagesOf('t', 0, 0, ['bad']));
    expect(ctx.events).toHaveLength(1);
    expect(prices(ctx.events[0])).toEqual([]);
    (ctx.events[0] as TickBatch).onDelivered!();
    expect(ctx.positions.find('t', 0)!.delivered).toBe(1);
  });

  it('a dead letter that is not acknowledged fails the input instead of throwing into the loop', async () => {
    const { ctx } = setup();
    const failing = { ...ctx, deadLetter: async () => Promise.reject(new Error('broker gone')) };
    const handler = new TickHandler(failing, partitionView());
    await expect(handler.onMessages(messagesOf('t', 0, 0, ['bad']))).resolves.toBeUndefined();
    const it = ctx.queue[Symbol.asyncIterator]();
    await expect(it.next()).rejects.toMatchObject({ code: 'KAFKA_UNAVAILABLE' });
  });

  it('no messages: nothing happens', async () => {
    const { ctx, handler } = setup();
    await handler.onMessages([]);
    expect(ctx.events).toHaveLength(0);
    expect(ctx.positions.find('t', 0)).toBeUndefined();
  });
});
