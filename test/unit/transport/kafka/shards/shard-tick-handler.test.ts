import { describe, expect, it } from 'vitest';
import type { TickBatch } from '../../../../../src/ports.js';
import { shardOf } from '../../../../../src/routing/shard-of.js';
import { Shard } from '../../../../../src/transport/kafka/shards/shard.js';
import { ShardBook } from '../../../../../src/transport/kafka/shards/shard-book.js';
import { ShardTickHandler } from '../../../../../src/transport/kafka/shards/shard-tick-handler.js';
import { messagesOf, testContext, tickJson } from '../helpers.js';

/** The offsets of an event's ticks (ticksFrom prices them 1000 + offset). */
const prices = (e: unknown): number[] => (e as TickBatch).ticks.map((t) => t.last_price - 1000);
/** An event as [warm-up?, shards it is for, prices]. */
const shape = (book: ShardBook, e: unknown): [boolean, number[], number[]] => {
  const b = e as TickBatch;
  const ids = [...Array(book.count).keys()].filter((id) => b.only!.key.split(':')[1]!.split(',').includes(String(id)));
  return [b.warmup === true, ids, prices(b)];
};

/** A strategy id in each shard (the filters accept strategies by shard). */
function idIn(shard: number, count: number): string {
  for (let i = 0; ; i++) if (shardOf(`s${i}`, count) === shard) return `s${i}`;
}

function activeShard(book: ShardBook, id: number, parts: [partition: number, position: number, warmStart: number, feed: 'main' | object][]): Shard {
  const s = new Shard(id);
  for (const [p, pos, warm, feed] of parts) s.addPartition(p, pos, warm, feed);
  s.life.to('active');
  book.add(s);
  return s;
}

/** Ticks priced 1000 + their offset (a price of 0 is not a valid tick). */
function ticksFrom(first: number, n: number): string[] {
  return Array.from({ length: n }, (_, i) => tickJson(1, 1000 + first + i));
}

describe('ShardTickHandler', () => {
  it('main reader, every shard joined: one live event for all of them, marks each shard delivered on acknowledgement', async () => {
    const ctx = testContext();
    const book = new ShardBook(4);
    book.mainNext.set(0, 100);
    const a = activeShard(book, 0, [[0, 100, 100, 'main']]);
    const b = activeShard(book, 2, [[0, 100, 100, 'main']]);
    a.parts.get(0)!.joined = true;
    b.parts.get(0)!.joined = true;
    const h = new ShardTickHandler(ctx, book, 'main');
    await h.onMessages(messagesOf('t', 0, 100, ticksFrom(100, 3)));
    expect(ctx.events.map((e) => shape(book, e))).toEqual([[false, [0, 2], [100, 101, 102]]]);
    expect(book.mainNext.get(0)).toBe(103);
    expect(a.pending).toBe(1);
    expect(a.parts.get(0)!.delivered).toBe(100);
    (ctx.events[0] as TickBatch).onDelivered!();
    expect([a.parts.get(0)!.delivered, b.parts.get(0)!.delivered, a.pending]).toEqual([103, 103, 0]);
    // The filter lets through the strategies of its shards only.
    const only = (ctx.events[0] as TickBatch).only!;
    expect([only.accepts(idIn(0, 4)), only.accepts(idIn(1, 4)), only.accepts(idIn(2, 4))]).toEqual([true, false, true]);
  });

  it('main reader, no shard held in the partition: nothing dispatched, its position still moves', async () => {
    const ctx = testContext();
    const book = new ShardBook(4);
    book.mainNext.set(1, 5);
    const h = new ShardTickHandler(ctx, book, 'main');
    await h.onMessages(messagesOf('t', 1, 5, ticksFrom(5, 4)));
    expect(ctx.events).toEqual([]);
    expect(book.mainNext.get(1)).toBe(9);
    expect(ctx.counters.unownedTicks).toBe(4);
  });

  it('a catch-up reader: warm-up below the position, live from it, stops at the main reader and hands the shard over', async () => {
    const ctx = testContext();
    const book = new ShardBook(4);
    book.mainNext.set(0, 14);
    const cohort = {};
    const s = activeShard(book, 1, [[0, 12, 10, cohort]]);
    const handed: number[] = [];
    const h = new ShardTickHandler(ctx, book, cohort, { handover: (f) => handed.push(f.shard.id) });
    await h.onMessages(messagesOf('t', 0, 8, ticksFrom(8, 9))); // offsets 8..16
    expect(ctx.events.map((e) => shape(book, e))).toEqual([
      [true, [1], [10, 11]],
      [false, [1], [12, 13]],
    ]);
    expect(handed).toEqual([1]);
    const part = s.parts.get(0)!;
    expect([part.feed, part.next, part.joined]).toEqual(['main', 14, true]);
    (ctx.events[1] as TickBatch).onDelivered!();
    expect(part.delivered).toBe(14);
    // The main reader now gives it every tick from 14 on.
    const main = new ShardTickHandler(ctx, book, 'main');
    await main.onMessages(messagesOf('t', 0, 14, ticksFrom(14, 2)));
    expect(shape(book, ctx.events.at(-1))).toEqual([false, [1], [14, 15]]);
  });

  it('two shards at different positions in one catch-up: each sees each tick once, warm-up before live, in offset order', async () => {
    const ctx = testContext();
    const book = new ShardBook(4);
    book.mainNext.set(0, 100);
    const cohort = {};
    activeShard(book, 0, [[0, 4, 2, cohort]]);
    activeShard(book, 3, [[0, 6, 0, cohort]]);
    const h = new ShardTickHandler(ctx, book, cohort);
    await h.onMessages(messagesOf('t', 0, 0, ticksFrom(0, 8)));
    const seen = new Map<number, { warm: number[]; live: number[] }>([
      [0, { warm: [], live: [] }],
      [3, { warm: [], live: [] }],
    ]);
    for (const e of ctx.events) {
      const [warm, ids, ps] = shape(book, e);
      for (const id of ids) seen.get(id)![warm ? 'warm' : 'live'].push(...ps);
    }
    expect(seen.get(0)).toEqual({ warm: [2, 3], live: [4, 5, 6, 7] });
    expect(seen.get(3)).toEqual({ warm: [0, 1, 2, 3, 4, 5], live: [6, 7] });
    // Per shard, the order of events keeps offset order: shard 0 sees 2,3 (warm) before 4.. (live).
    const order0: number[] = [];
    for (const e of ctx.events) if (shape(book, e)[1].includes(0)) order0.push(...prices(e));
    expect(order0).toEqual([2, 3, 4, 5, 6, 7]);
    const order3: number[] = [];
    for (const e of ctx.events) if (shape(book, e)[1].includes(3)) order3.push(...prices(e));
    expect(order3).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('a shard ahead of the main reader waits for it: skipped, then warm-up, then live and joined', async () => {
    const ctx = testContext();
    const book = new ShardBook(2);
    book.mainNext.set(0, 10);
    const s = activeShard(book, 1, [[0, 14, 12, 'main']]);
    const h = new ShardTickHandler(ctx, book, 'main');
    await h.onMessages(messagesOf('t', 0, 10, ticksFrom(10, 6))); // 10..15
    expect(ctx.events.map((e) => shape(book, e))).toEqual([
      [true, [1], [12, 13]],
      [false, [1], [14, 15]],
    ]);
    expect(s.parts.get(0)!.joined).toBe(true);
    expect(ctx.counters.redeliveredTicks).toBe(2);
  });

  it('a shard releasing or acquiring takes no ticks', async () => {
    const ctx = testContext();
    const book = new ShardBook(2);
    book.mainNext.set(0, 0);
    const s = activeShard(book, 0, [[0, 0, 0, 'main']]);
    s.parts.get(0)!.joined = true;
    s.life.to('releasing');
    const acquiring = new Shard(1);
    acquiring.addPartition(0, 0, 0, 'main');
    book.add(acquiring);
    const h = new ShardTickHandler(ctx, book, 'main');
    await h.onMessages(messagesOf('t', 0, 0, ticksFrom(0, 2)));
    expect(ctx.events).toEqual([]);
  });

  it('a bad record is dead-lettered once in the deployment: by the partition s dead-letter shard, when live; the marks pass it after the dead letter', async () => {
    const ctx = testContext();
    const book = new ShardBook(4);
    book.mainNext.set(1, 0);
    const dl = activeShard(book, book.deadLetterShard(1), [[1, 0, 0, 'main']]);
    dl.parts.get(1)!.joined = true;
    const h = new ShardTickHandler(ctx, book, 'main');
    await h.onMessages(messagesOf('t', 1, 0, [tickJson(1, 1001), 'not json', tickJson(1, 1003)]));
    expect(ctx.dead).toHaveLength(1);
    expect(ctx.dead[0]).toMatchObject({ partition: 1, offset: '1', code: 'TICK_INVALID' });
    (ctx.events.at(-1) as TickBatch).onDelivered!();
    expect(dl.parts.get(1)!.delivered).toBe(3);

    // Another partition whose dead-letter shard is not held here: not dead-lettered (its holder does it).
    const ctx2 = testContext();
    const book2 = new ShardBook(4);
    book2.mainNext.set(2, 0);
    const other = activeShard(book2, (book2.deadLetterShard(2) + 1) % 4, [[2, 0, 0, 'main']]);
    other.parts.get(2)!.joined = true;
    await new ShardTickHandler(ctx2, book2, 'main').onMessages(messagesOf('t', 2, 0, ['bad']));
    expect(ctx2.dead).toHaveLength(0);
  });

  it('each live event carries the marks of its own ticks: a position never passes a tick of a later event, nor waits for one (what a transaction relies on)', async () => {
    const ctx = testContext();
    const book = new ShardBook(4);
    book.mainNext.set(0, 100);
    // Shard 0 live from 100; shard 1 warming up to 103 (its position), live from there.
    const a = activeShard(book, 0, [[0, 100, 100, 'main']]);
    const b = activeShard(book, 1, [[0, 103, 100, 'main']]);
    a.parts.get(0)!.joined = true;
    const h = new ShardTickHandler(ctx, book, 'main');
    await h.onMessages(messagesOf('t', 0, 100, ticksFrom(100, 6))); // offsets 100..105
    const live = ctx.events.filter((e) => (e as TickBatch).warmup !== true) as TickBatch[];
    expect(live.map((e) => shape(book, e))).toEqual([
      [false, [0], [100]],
      [false, [0], [101]],
      [false, [0], [102]],
      [false, [0, 1], [103, 104, 105]],
    ]);
    expect([a.pending, b.pending]).toEqual([4, 1]);
    // The first event settles alone: shard 0 past offset 100 only, shard 1 where it was.
    live[0]!.onDelivered!();
    expect([a.parts.get(0)!.delivered, b.parts.get(0)!.delivered]).toEqual([101, 103]);
    for (const e of live.slice(1)) e.onDelivered!();
    expect([a.parts.get(0)!.delivered, b.parts.get(0)!.delivered, a.pending, b.pending]).toEqual([106, 106, 0, 0]);
  });

  it('a run of bad records only: its marks go with a live event of no ticks, pushed after the dead letters are accepted', async () => {
    const ctx = testContext();
    const book = new ShardBook(4);
    book.mainNext.set(0, 50);
    const a = activeShard(book, 0, [[0, 50, 50, 'main']]);
    a.parts.get(0)!.joined = true;
    const h = new ShardTickHandler(ctx, book, 'main');
    await h.onMessages(messagesOf('t', 0, 50, ['not json', '{"also":"bad"}']));
    expect(ctx.dead.map((d) => [d.offset, d.shard])).toEqual([
      ['50', 0],
      ['51', 0],
    ]);
    expect(ctx.events.map((e) => shape(book, e))).toEqual([[false, [0], []]]);
    (ctx.events[0] as TickBatch).onDelivered!();
    expect(a.parts.get(0)!.delivered).toBe(52);
  });
});
