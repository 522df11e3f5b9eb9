import { describe, it, expect } from 'vitest';
import { useTempDir } from '../../../helpers/temp-dir.js';
import { join } from 'node:path';
import { FileTickSource } from '../../../../src/transport/files/file-tick-source.js';
import type { RejectedInput, TickBatch } from '../../../../src/ports.js';
import { RunnerError } from '../../../../src/errors.js';

const tmp = useTempDir('file-tick-source-');
const file = tmp.file;

function tickLine(token: number, price: number, ts: number | string): string {
  return JSON.stringify({ instrument_token: token, last_price: price, timestamp: ts });
}

async function collect(src: FileTickSource): Promise<TickBatch[]> {
  const out: TickBatch[] = [];
  for await (const b of src.batches()) out.push(b);
  return out;
}

describe('FileTickSource', () => {
  it('yields every valid tick in file order, batched by batchSize', async () => {
    const lines = Array.from({ length: 7 }, (_, i) => tickLine(256265, 100 + i, 1_000 + i));
    const src = new FileTickSource(file('seven.jsonl', lines), { batchSize: 3, onReject: () => {} });
    const batches = await collect(src);
    expect(batches.map((b) => b.ticks.length)).toEqual([3, 3, 1]);
    for (const b of batches) expect(b.kind).toBe('ticks');
    expect(batches.flatMap((b) => b.ticks.map((t) => t.last_price))).toEqual([100, 101, 102, 103, 104, 105, 106]);
    expect(src.name).toBe(join(tmp.dir(), 'seven.jsonl'));
  });

  it('uses 512 ticks per batch by default', async () => {
    const lines = Array.from({ length: 1030 }, (_, i) => tickLine(1, 10, i));
    const batches = await collect(new FileTickSource(file('many.jsonl', lines), { onReject: () => {} }));
    expect(batches.map((b) => b.ticks.length)).toEqual([512, 512, 6]);
  });

  it('reports malformed lines with path:line and a reason, skips them and keeps the valid ones', async () => {
    const lines = [
      tickLine(1, 10, 1000), // 1 ok
      '{not json', // 2 bad JSON
      '', // 3 blank: not a reject
      tickLine(1, -5, 1001), // 4 negative price
      JSON.stringify({ instrument_token: 1, last_price: 11 }), // 5 missing timestamp
      '[1,2,3]', // 6 not an object
      tickLine(1, 12, '2024-01-01T09:15:00'), // 7 ISO without zone
      tickLine(1, 13, 1002), // 8 ok
    ];
    const p = file('mixed.jsonl', lines);
    const rejects: RejectedInput[] = [];
    const batches = await collect(new FileTickSource(p, { batchSize: 100, onReject: (r) => rejects.push(r) }));
    expect(batches.flatMap((b) => b.ticks.map((t) => t.last_price))).toEqual([10, 13]);
    expect(rejects.map((r) => r.where)).toEqual([`${p}:2`, `${p}:4`, `${p}:5`, `${p}:6`, `${p}:7`]);
    for (const r of rejects) {
      expect(r.kind).toBe('tick');
      expect(r.source).toBe(p);
      expect(r.reason.length).toBeGreaterThan(0);
    }
    expect(rejects[0]!.reason).toMatch(/^not valid JSON/);
    expect(rejects[1]!.reason).toContain('last_price');
    expect(rejects[2]!.reason).toContain('timestamp');
    expect(rejects[3]!.reason).toBe('tick must be a JSON object');
    expect(rejects[4]!.reason).toContain('timestamp');
  });

  it('never yields a batch larger than batchSize, and yields no empty batch when a chunk is all bad', async () => {
    const lines = [
      tickLine(1, 10, 1), // chunk 1 (lines 1-2)
      'bad',
      'bad', // chunk 2 (lines 3-4): nothing valid
      'bad',
      tickLine(1, 11, 2), // chunk 3 (lines 5-6)
      tickLine(1, 12, 3),
    ];
    const rejects: RejectedInput[] = [];
    const batches = await collect(new FileTickSource(file('chunks.jsonl', lines), { batchSize: 2, onReject: (r) => rejects.push(r) }));
    expect(batches.map((b) => b.ticks.map((t) => t.last_price))).toEqual([[10], [11, 12]]);
    for (const b of batches) expect(b.ticks.length).toBeGreaterThan(0);
    expect(rejects).toHaveLength(3);
  });

  it('normalises ISO-8601 timestamps (Z or an offset) to epoch milliseconds and keeps extra fields', async () => {
    const lines = [
      JSON.stringify({ instrument_token: 5, last_price: 1.5, timestamp: '2024-01-01T09:15:00Z', volume: 7, oi: 99 }),
      tickLine(5, 1.6, '2024-01-01T14:45:00+05:30'), // the same instant in IST
      tickLine(5, 1.7, '2024-01-01T09:15:00.250Z'),
      tickLine(5, 1.8, 1704100500000),
    ];
    const batches = await collect(new FileTickSource(file('iso.jsonl', lines), { onReject: () => {} }));
    const ticks = batches.flatMap((b) => b.ticks);
    // 2024-01-01T00:00Z = 1704067200000; + 9 h 15 min (33 300 s) = 1704100500000
    expect(ticks.map((t) => t.timestamp)).toEqual([1704100500000, 1704100500000, 1704100500250, 1704100500000]);
    expect(ticks[0]).toEqual({ instrument_token: 5, last_price: 1.5, timestamp: 1704100500000, volume: 7, oi: 99 });
  });

  it('reports progress in bytes: 0 before reading, the file size after', async () => {
    const lines = [tickLine(1, 10, 1), tickLine(1, 11, 2)];
    const p = file('progress.jsonl', lines);
    const size = Buffer.byteLength(lines.join('\n') + '\n');
    const src = new FileTickSource(p, { onReject: () => {} });
    expect(src.progress()).toEqual({ done: 0, total: size });
    await collect(src);
    expect(src.progress()).toEqual({ done: size, total: size });
  });

  it('throws INPUT_UNREADABLE at construction for a missing file', () => {
    expect(() => new FileTickSource(join(tmp.dir(), 'missing.jsonl'), { onReject: () => {} })).toThrow(RunnerError);
    try {
      new FileTickSource(join(tmp.dir(), 'missing.jsonl'), { onReject: () => {} });
    } catch (err) {
      expect((err as RunnerError).code).toBe('INPUT_UNREADABLE');
    }
  });
});
