import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Tick } from '../../../src/domain/tick.js';
import { decodeTickBatch, encodeTickBatch, TICK_STRIDE } from '../../../src/protocol/tick-batch-codec.js';

const roundTrip = (ticks: Tick[], routes: number[] = []): { back: Tick[]; enc: ReturnType<typeof encodeTickBatch> } => {
  const enc = encodeTickBatch(ticks, routes);
  // What the thread receives: a structured clone.
  const wire = structuredClone(enc);
  return { back: decodeTickBatch(wire), enc: wire };
};

describe('tick batch codec', () => {
  it('carries the four core fields as columns and rebuilds the same ticks, with or without volume', () => {
    const ticks: Tick[] = [
      { instrument_token: 256265, last_price: 24_512.35, timestamp: 1_700_000_000_123, volume: 1200 },
      { instrument_token: 0, last_price: 0.05, timestamp: 1_700_000_000_124.5 },
      { instrument_token: Number.MAX_SAFE_INTEGER, last_price: 1e-9, timestamp: 0, volume: 0 },
    ];
    const { back, enc } = roundTrip(ticks, [1, 0, 2, 0, 1, 0]);
    expect(back).toEqual(ticks);
    expect(Object.keys(back[1]!)).toEqual(['instrument_token', 'last_price', 'timestamp']);
    expect(enc.cols).toHaveLength(ticks.length * TICK_STRIDE);
    expect(enc.extra).toBeUndefined();
    expect([...enc.routes]).toEqual([1, 0, 2, 0, 1, 0]);
  });

  it('sends a tick with any other field whole, in its place, so strategies lose nothing', () => {
    const rich = { instrument_token: 5, last_price: 10, timestamp: 3, volume: 1, ohlc: { open: 9, high: 11, low: 8, close: 10 }, depth: [[1, 2]] } as Tick;
    const noVolumeButOther = { instrument_token: 6, last_price: 10, timestamp: 4, oi: 7 } as Tick;
    const plain: Tick = { instrument_token: 7, last_price: 10, timestamp: 5 };
    const { back, enc } = roundTrip([plain, rich, noVolumeButOther, plain]);
    expect(back).toEqual([plain, rich, noVolumeButOther, plain]);
    expect(enc.extraAt).toEqual([1, 2]);
  });

  it('an explicit undefined volume is not mistaken for a core-only tick', () => {
    const t = { instrument_token: 1, last_price: 2, timestamp: 3, volume: undefined } as Tick;
    const { back } = roundTrip([t]);
    expect(back[0]).toHaveProperty('volume', undefined);
  });

  it('round-trips any batch of decoded ticks (property)', () => {
    const tick = fc.record(
      {
        instrument_token: fc.maxSafeNat(),
        last_price: fc.double({ min: Number.MIN_VALUE, max: 1e12, noNaN: true }),
        timestamp: fc.double({ min: 0, max: 4e12, noNaN: true }),
        volume: fc.double({ min: 0, max: 1e15, noNaN: true }),
        note: fc.string(),
      },
      { requiredKeys: ['instrument_token', 'last_price', 'timestamp'] },
    );
    fc.assert(
      fc.property(fc.array(tick, { maxLength: 40 }), (ticks) => {
        expect(roundTrip(ticks as Tick[]).back).toEqual(ticks);
      }),
    );
  });

  it('an empty batch is an empty batch', () => {
    expect(roundTrip([]).back).toEqual([]);
  });
});

describe('the tick row layout (shared by batches and the re-warm history)', () => {
  it('has one column per core field, TICK_STRIDE wide, written by writeRow and read by tickFromRow', async () => {
    const { TICK_COLUMNS, TICK_STRIDE, encodeTickBatch, tickFromRow, writeRow } = await import('../../../src/protocol/tick-batch-codec.js');
    expect(Object.keys(TICK_COLUMNS)).toHaveLength(TICK_STRIDE);
    expect(new Set(Object.values(TICK_COLUMNS))).toEqual(new Set([0, 1, 2, 3]));
    const t = { instrument_token: 7, last_price: 101.5, timestamp: 1_700_000_000_123, volume: 9 };
    const row = new Float64Array(TICK_STRIDE);
    writeRow(row, 0, t);
    for (const [field, col] of Object.entries(TICK_COLUMNS)) expect(row[col]).toBe(t[field as keyof typeof t]);
    // The row a batch carries is the row the history keeps.
    expect([...encodeTickBatch([t], [1, 0]).cols]).toEqual([...row]);
    expect(tickFromRow(row, 0)).toEqual(t);
  });
});
