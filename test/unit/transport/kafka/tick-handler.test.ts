import { describe, expect, it } from 'vitest';
import type { TickBatch } from '../../../../src/ports.js';
import { TickHandler } from '../../../../src/transport/kafka/tick-handler.js';
import { batchOf, testContext, tickJson } from './helpers.js';

function setup() {
  const ctx = testContext();
  const handler = new TickHandler(ctx);
  return { ctx, handler };
}

const prices = (e: unknown): number[] => (e as TickBatch).ticks.map((t) => t.last_price);

describe('TickHandler: one fetched batch of ticks', () => {
  it('a fresh partition: every tick live, the position moves past the batch, delivery marks it committable', async () => {
    const { ctx, handler } = setup();
    await handler.onBatch(batchOf('t', 0, 0, [tickJson(1, 10), tickJson(1, 11)], 7));
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
    await handler.onBatch(batchOf('t', 0, 10, [tickJson(1, 10), tickJson(1, 11), tickJson(1, 12), tickJson(1, 13)]));
    expect(ctx.events.map((e) => [(e as TickBatch).warmup === true, prices(e)])).toEqual([
      [true, [10, 11]],
      [false, [12, 13]],
    ]);
    expect(ctx.counters.warmupTicks).toBe(2);
    expect(ctx.counters.ticks).toBe(2);
    expect(p.next).toBe(14);
  });

  it('a batch wholly in the warm-up: one warm-up event, nothing to commit', async () => {
    const { ctx, handler } = setup();
    const p = ctx.positions.get('t', 0);
    p.next = 0;
    p.warmUntil = 100;
    await handler.onBatch(batchOf('t', 0, 0, [tickJson(1, 10), 'not json']));
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
    await handler.onBatch(batchOf('t', 0, 2, [tickJson(1, 2), tickJson(1, 3), tickJson(1, 4)]));
    expect(ctx.events).toHaveLength(0);
    expect(ctx.counters.redeliveredTicks).toBe(3);
    await handler.onBatch(batchOf('t', 0, 3, [tickJson(1, 3), tickJson(1, 4), tickJson(1, 5), tickJson(1, 6)]));
    expect(ctx.counters.redeliveredTicks).toBe(5);
    expect(prices(ctx.events[0])).toEqual([5, 6]);
    expect(p.next).toBe(7);
  });

  it('a bad record and a tombstone in a live batch: dead-lettered with where they came from, the stream goes on', async () => {
    const { ctx, handler } = setup();
    await handler.onBatch(batchOf('t', 3, 40, [tickJson(1, 10), '{"instrument_token":1}', null, tickJson(1, 11)]));
    expect(prices(ctx.events[0])).toEqual([10, 11]);
    expect(ctx.dead.map((d) => [d.code, d.topic, d.partition, d.offset])).toEqual([
      ['TICK_INVALID', 't', 3, '41'],
      ['TICK_INVALID', 't', 3, '42'],
    ]);
    expect(ctx.dead[1]!.reason).toBe('empty value (tombstone)');
    expect(ctx.counters.badTicks).toBe(2);
  });

  it('a dead letter that is not acknowledged fails the input instead of throwing into the client', async () => {
    const { ctx } = setup();
    const failing = { ...ctx, deadLetter: async () => Promise.reject(new Error('broker gone')) };
    const handler = new TickHandler(failing);
    await expect(handler.onBatch(batchOf('t', 0, 0, ['bad']))).resolves.toBeUndefined();
    const it = ctx.queue[Symbol.asyncIterator]();
    await expect(it.next()).rejects.toMatchObject({ code: 'KAFKA_UNAVAILABLE' });
  });

  it('an empty batch notes the broker answer and the high watermark only', async () => {
    const { ctx, handler } = setup();
    await handler.onBatch(batchOf('t', 0, 0, [], 9));
    expect(ctx.events).toHaveLength(0);
    expect(ctx.positions.find('t', 0)).toMatchObject({ next: undefined, high: 9 });
  });
});
