import { describe, it, expect } from 'vitest';
import { useTempDir } from '../../../helpers/temp-dir.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileFillSource } from '../../../../src/transport/files/file-fill-source.js';
import type { RejectedInput } from '../../../../src/ports.js';
import type { Fill } from '../../../../src/domain/fill.js';
import { RunnerError } from '../../../../src/errors.js';

const tmp = useTempDir('file-fill-source-');
const file = tmp.file;

function fillLine(id: string, ts: number | string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ fill_id: id, strategy_id: 's1', instrument_token: 7, side: 'BUY', quantity: 2, price: 100, timestamp: ts, ...extra });
}

describe('FileFillSource', () => {
  it('all() returns every fill sorted by timestamp', async () => {
    const p = file('unsorted.jsonl', [fillLine('c', 3000), fillLine('a', 1000), fillLine('d', 4000), fillLine('b', 2000)]);
    const fills = await new FileFillSource(p, { onReject: () => {} }).all();
    expect(fills.map((f) => f.fill_id)).toEqual(['a', 'b', 'c', 'd']);
    expect(fills.map((f) => f.timestamp)).toEqual([1000, 2000, 3000, 4000]);
  });

  it('all() is stable: fills with equal timestamps keep their file order', async () => {
    const p = file('ties.jsonl', [
      fillLine('x1', 2000),
      fillLine('y1', 1000),
      fillLine('x2', 2000),
      fillLine('y2', 1000),
      fillLine('x3', '1970-01-01T00:00:02Z'), // = 2000 ms
    ]);
    const fills = await new FileFillSource(p, { onReject: () => {} }).all();
    expect(fills.map((f) => f.fill_id)).toEqual(['y1', 'y2', 'x1', 'x2', 'x3']);
  });

  it('decodes the fields and normalises an ISO timestamp', async () => {
    const p = file('one.jsonl', [fillLine('f1', '2024-01-01T09:15:00Z', { order_id: 'o1', broker: 'zerodha', side: 'SELL' })]);
    const fills = await new FileFillSource(p, { onReject: () => {} }).all();
    const expected: Fill = {
      fill_id: 'f1',
      order_id: 'o1',
      strategy_id: 's1',
      instrument_token: 7,
      side: 'SELL',
      quantity: 2,
      price: 100,
      timestamp: 1704100500000,
      broker: 'zerodha',
    };
    expect(fills).toEqual([expected]);
  });

  it('reports bad lines with path:line and a reason and skips them', async () => {
    const p = file('bad.jsonl', [
      fillLine('ok1', 1000), // 1
      '{"fill_id":', // 2 not JSON
      fillLine('neg', 1001, { quantity: -1 }), // 3
      '', // 4 blank
      fillLine('side', 1002, { side: 'HOLD' }), // 5
      fillLine('ok2', 999), // 6
    ]);
    const rejects: RejectedInput[] = [];
    const fills = await new FileFillSource(p, { onReject: (r) => rejects.push(r) }).all();
    expect(fills.map((f) => f.fill_id)).toEqual(['ok2', 'ok1']);
    expect(rejects.map((r) => r.where)).toEqual([`${p}:2`, `${p}:3`, `${p}:5`]);
    for (const r of rejects) {
      expect(r.kind).toBe('fill');
      expect(r.source).toBe(p);
    }
    expect(rejects[0]!.reason).toMatch(/^not valid JSON/);
    expect(rejects[1]!.reason).toContain('quantity');
    expect(rejects[2]!.reason).toContain('side');
  });

  it('fills() yields file order (unsorted) in chunks', async () => {
    const p = file('order.jsonl', [fillLine('b', 2), fillLine('a', 1)]);
    const chunks: Fill[][] = [];
    for await (const c of new FileFillSource(p, { onReject: () => {} }).fills()) chunks.push(c);
    expect(chunks.map((c) => c.map((f) => f.fill_id))).toEqual([['b', 'a']]);
  });

  it('an empty file gives no fills', async () => {
    const p = join(tmp.dir(), 'empty.jsonl');
    writeFileSync(p, '');
    expect(await new FileFillSource(p, { onReject: () => {} }).all()).toEqual([]);
  });

  it('a missing file is INPUT_UNREADABLE', () => {
    let caught: unknown;
    try {
      new FileFillSource(join(tmp.dir(), 'nope.jsonl'), { onReject: () => {} });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(RunnerError);
    expect((caught as RunnerError).code).toBe('INPUT_UNREADABLE');
  });
});
