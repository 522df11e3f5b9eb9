import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../../src/async/event-queue.js';

async function drain<T>(q: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of q) out.push(x);
  return out;
}

describe('EventQueue', () => {
  it('refuses a capacity that is not an integer >= 1', () => {
    expect(() => new EventQueue(0)).toThrow(RangeError);
    expect(() => new EventQueue(1.5)).toThrow(RangeError);
  });

  it('yields the pushed items in order, then the queued rest after close()', async () => {
    const q = new EventQueue<number>(10);
    expect(await q.push(1)).toBe(true);
    expect(await q.push(2)).toBe(true);
    expect(q.length).toBe(2);
    q.close();
    expect(q.closed).toBe(true);
    expect(await drain(q)).toEqual([1, 2]);
  });

  it('holds a push while full and lets it in once the reader takes an item', async () => {
    const q = new EventQueue<string>(1);
    await q.push('a');
    let second = false;
    const pushing = q.push('b').then((ok) => (second = ok));
    await Promise.resolve();
    expect(second).toBe(false);
    expect(q.length).toBe(1);
    const it = q[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ value: 'a', done: false });
    await pushing;
    expect(second).toBe(true);
    expect(await it.next()).toEqual({ value: 'b', done: false });
    q.close();
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it('wakes a waiting reader when an item arrives', async () => {
    const q = new EventQueue<number>(4);
    const it = q[Symbol.asyncIterator]();
    const next = it.next();
    await q.push(7);
    expect(await next).toEqual({ value: 7, done: false });
  });

  it('drops a push after close (false), and releases pushes waiting for room', async () => {
    const q = new EventQueue<number>(1);
    await q.push(1);
    const waiting = q.push(2);
    q.close();
    expect(await waiting).toBe(false);
    expect(await q.push(3)).toBe(false);
    expect(await drain(q)).toEqual([1]);
  });

  it('fail(err): the reader gets the queued items, then the first error', async () => {
    const q = new EventQueue<number>(4);
    await q.push(1);
    q.fail(new Error('first'));
    q.fail(new Error('second'));
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const x of q) seen.push(x);
      })(),
    ).rejects.toThrow('first');
    expect(seen).toEqual([1]);
  });
});
