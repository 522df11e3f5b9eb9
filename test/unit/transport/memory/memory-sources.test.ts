import { describe, it, expect } from 'vitest';
import { MemoryConfigSource, MemoryFillSource, MemorySignalSink, MemoryTickSource } from '../../../../src/transport/memory/memory-sources.js';
import type { TickBatch } from '../../../../src/ports.js';
import type { Fill } from '../../../../src/domain/fill.js';
import type { Signal } from '../../../../src/domain/signal.js';
import { ticksOf } from '../../../helpers/ticks.js';

function fill(id: string, ts: number): Fill {
  return { fill_id: id, strategy_id: 's', instrument_token: 1, side: 'BUY', quantity: 1, price: 10, timestamp: ts };
}

function signal(id: string): Signal {
  return { signal_id: id, strategy_id: 's', strategy_type: 'T', instrument_token: 1, side: 'BUY', quantity: 1, price: 10, tick_timestamp: 0, broker: 'paper' };
}

async function batchesOf(src: MemoryTickSource): Promise<TickBatch[]> {
  const out: TickBatch[] = [];
  for await (const b of src.batches()) out.push(b);
  return out;
}

describe('MemoryTickSource', () => {
  it('yields the ticks in order in batches of batchSize, the last one partial', async () => {
    const ticks = ticksOf(1, [1, 2, 3, 4, 5, 6, 7]);
    const batches = await batchesOf(new MemoryTickSource(ticks, 3));
    expect(batches.map((b) => b.kind)).toEqual(['ticks', 'ticks', 'ticks']);
    expect(batches.map((b) => b.ticks.map((t) => t.last_price))).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    expect(batches.every((b) => b.onDelivered === undefined)).toBe(true);
  });

  it('defaults to 512 per batch; no ticks, no batches', async () => {
    const ticks = ticksOf(1, Array.from({ length: 600 }, (_, i) => i + 1));
    expect((await batchesOf(new MemoryTickSource(ticks))).map((b) => b.ticks.length)).toEqual([512, 88]);
    expect(await batchesOf(new MemoryTickSource([]))).toEqual([]);
  });

  it('can be iterated more than once', async () => {
    const src = new MemoryTickSource(ticksOf(1, [1, 2]), 1);
    expect((await batchesOf(src)).length).toBe(2);
    expect((await batchesOf(src)).length).toBe(2);
  });
});

describe('MemoryFillSource', () => {
  it('yields all the fills as one chunk (a copy), nothing when empty', async () => {
    const fills = [fill('a', 1), fill('b', 2)];
    const chunks: Fill[][] = [];
    for await (const c of new MemoryFillSource(fills).fills()) chunks.push(c);
    expect(chunks).toEqual([fills]);
    expect(chunks[0]).not.toBe(fills);
    const none: Fill[][] = [];
    for await (const c of new MemoryFillSource([]).fills()) none.push(c);
    expect(none).toEqual([]);
  });
});

describe('MemorySignalSink', () => {
  it('keeps every signal in write order', async () => {
    const sink = new MemorySignalSink();
    await sink.write([signal('1'), signal('2')]);
    await sink.write([]);
    await sink.write([signal('3')]);
    await sink.flush();
    await sink.close();
    expect(sink.signals.map((s) => s.signal_id)).toEqual(['1', '2', '3']);
  });
});

describe('MemoryConfigSource', () => {
  it('validates like any source: valid configs parsed with defaults, bad ones reported with source "memory"', async () => {
    const src = new MemoryConfigSource([
      { id: 'a', strategy_type: 'SimpleMomentumStrategy', instruments: [1] },
      { id: 'b', strategy_type: 'SimpleMomentumStrategy', instruments: ['x'] },
    ]);
    const { configs, errors } = await src.load();
    expect(configs).toEqual([{ id: 'a', strategy_type: 'SimpleMomentumStrategy', instruments: [1], parameters: {}, is_active: true, brokers: ['paper'] }]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe('STRATEGY_CONFIG_INVALID');
    expect(errors[0]!.message).toContain('(memory entry #1)');
  });
});
