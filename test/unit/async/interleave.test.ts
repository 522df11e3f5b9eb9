import { describe, it, expect } from 'vitest';
import { interleaveByTime, ticksOnly } from '../../../src/async/interleave.js';
import type { InputEvent, TickBatch, TickSource } from '../../../src/ports.js';
import type { Fill } from '../../../src/domain/fill.js';
import type { Tick } from '../../../src/domain/tick.js';

function tick(ts: number): Tick {
  return { instrument_token: 1, last_price: ts, timestamp: ts };
}

function fill(id: string, ts: number): Fill {
  return { fill_id: id, strategy_id: 's', instrument_token: 1, side: 'BUY', quantity: 1, price: 10, timestamp: ts };
}

/** A tick source yielding the given batches (each may carry an onDelivered). */
function source(batches: readonly TickBatch[]): TickSource {
  return {
    name: 'test',
    async *batches() {
      yield* batches;
    },
    async close() {},
  };
}

function batch(timestamps: readonly number[], onDelivered?: () => void): TickBatch {
  return onDelivered === undefined ? { kind: 'ticks', ticks: timestamps.map(tick) } : { kind: 'ticks', ticks: timestamps.map(tick), onDelivered };
}

async function collect(it: AsyncIterable<InputEvent>): Promise<InputEvent[]> {
  const out: InputEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

/** Compact view: ticks as arrays of timestamps, fills as their ids. */
function shape(events: readonly InputEvent[]): (number[] | string)[] {
  return events.map((e) => (e.kind === 'ticks' ? e.ticks.map((t) => t.timestamp) : e.fill.fill_id));
}

describe('interleaveByTime', () => {
  it('puts a fill before the first tick later than its timestamp, splitting the batch', async () => {
    const events = await collect(interleaveByTime(source([batch([10, 20, 30, 40])]), [fill('f25', 25)]));
    expect(shape(events)).toEqual([[10, 20], 'f25', [30, 40]]);
  });

  it('a fill with the same timestamp as ticks goes after them (ties go to the ticks)', async () => {
    const events = await collect(interleaveByTime(source([batch([10, 20, 20, 30])]), [fill('f20', 20)]));
    expect(shape(events)).toEqual([[10, 20, 20], 'f20', [30]]);
  });

  it('several fills at one point keep their order; fills at several points split several times', async () => {
    const fills = [fill('a', 15), fill('b', 15), fill('c', 18), fill('d', 40)];
    const events = await collect(interleaveByTime(source([batch([10, 20, 30, 40, 50])]), fills));
    expect(shape(events)).toEqual([[10], 'a', 'b', 'c', [20, 30, 40], 'd', [50]]);
  });

  it('fills earlier than every tick come first, and the batch is passed through whole', async () => {
    const b = batch([10, 20]);
    const events = await collect(interleaveByTime(source([b]), [fill('early1', 1), fill('early2', 9)]));
    expect(shape(events)).toEqual(['early1', 'early2', [10, 20]]);
    expect(events[2]).toBe(b);
  });

  it('fills later than the last tick come at the end', async () => {
    const events = await collect(interleaveByTime(source([batch([10, 20]), batch([30])]), [fill('late1', 31), fill('late2', 99)]));
    expect(shape(events)).toEqual([[10, 20], [30], 'late1', 'late2']);
  });

  it('a fill between two batches lands before the second batch, which stays whole', async () => {
    const b2 = batch([30, 40]);
    const events = await collect(interleaveByTime(source([batch([10, 20]), b2]), [fill('f25', 25)]));
    expect(shape(events)).toEqual([[10, 20], 'f25', [30, 40]]);
    expect(events[2]).toBe(b2);
  });

  it('a split batch keeps onDelivered only on its final piece', async () => {
    const delivered = (): void => {};
    const events = await collect(interleaveByTime(source([batch([10, 20, 30, 40], delivered)]), [fill('f15', 15), fill('f35', 35)]));
    expect(shape(events)).toEqual([[10], 'f15', [20, 30], 'f35', [40]]);
    const tickEvents = events.filter((e): e is TickBatch => e.kind === 'ticks');
    expect(tickEvents.map((e) => e.onDelivered)).toEqual([undefined, undefined, delivered]);
  });

  it('a batch without onDelivered gives pieces without one', async () => {
    const events = await collect(interleaveByTime(source([batch([10, 20])]), [fill('f15', 15)]));
    const last = events[events.length - 1] as TickBatch;
    expect(last.ticks.map((t) => t.timestamp)).toEqual([20]);
    expect('onDelivered' in last).toBe(false);
  });

  it('with no fills, the batches come through unchanged (same objects)', async () => {
    const b1 = batch([1, 2], () => {});
    const b2 = batch([3]);
    const events = await collect(interleaveByTime(source([b1, b2]), []));
    expect(events).toHaveLength(2);
    expect(events[0]).toBe(b1);
    expect(events[1]).toBe(b2);
  });

  it('once the fills are used up, later batches pass through unchanged', async () => {
    const b2 = batch([30, 40], () => {});
    const events = await collect(interleaveByTime(source([batch([10, 20]), b2]), [fill('f5', 5)]));
    expect(shape(events)).toEqual(['f5', [10, 20], [30, 40]]);
    expect(events[2]).toBe(b2);
  });

  it('keeps every tick and every fill exactly once', async () => {
    const ticks = [batch([1, 3, 5, 7]), batch([9, 11]), batch([13])];
    const fills = [fill('0', 0), fill('4', 4), fill('5', 5), fill('10', 10), fill('12', 12), fill('20', 20)];
    const events = await collect(interleaveByTime(source(ticks), fills));
    expect(shape(events)).toEqual(['0', [1, 3], '4', [5], '5', [7], [9], '10', [11], '12', [13], '20']);
  });

  it('no ticks at all: every fill still comes out', async () => {
    const events = await collect(interleaveByTime(source([]), [fill('a', 1), fill('b', 2)]));
    expect(shape(events)).toEqual(['a', 'b']);
  });
});

describe('ticksOnly', () => {
  it('passes the batches through', async () => {
    const b1 = batch([1]);
    const b2 = batch([2, 3]);
    const events = await collect(ticksOnly(source([b1, b2])));
    expect(events).toEqual([b1, b2]);
    expect(events[0]).toBe(b1);
  });
});
