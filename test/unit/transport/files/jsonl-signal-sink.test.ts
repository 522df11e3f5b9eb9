import { collectProcessErrors } from '../../../helpers/process-errors.js';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonlSignalSink } from '../../../../src/transport/files/jsonl-signal-sink.js';
import type { Signal } from '../../../../src/domain/signal.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'jsonl-signal-sink-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function signal(n: number, extra: Partial<Signal> = {}): Signal {
  return {
    signal_id: `id-${n}`,
    strategy_id: 's1',
    strategy_type: 'T',
    instrument_token: 256265,
    side: n % 2 === 0 ? 'BUY' : 'SELL',
    quantity: 1,
    price: 100 + n,
    tick_timestamp: 1_700_000_000_000 + n,
    broker: 'paper',
    ...extra,
  };
}

const catchUncaught = (fn: () => Promise<void>): Promise<unknown[]> => collectProcessErrors('uncaughtException', fn);

describe('JsonlSignalSink', () => {
  it('writes one JSON line per signal, in order, across several writes', async () => {
    const p = join(dir, 'out.jsonl');
    const sink = new JsonlSignalSink(p);
    expect(sink.name).toBe(p);
    const a = [signal(1), signal(2, { reason: 'why' })];
    const b = [signal(3)];
    await sink.write(a);
    await sink.write(b);
    await sink.close();
    const text = readFileSync(p, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(3);
    expect(lines.map((l) => JSON.parse(l) as Signal)).toEqual([...a, ...b]);
    // byte-exact: the object's own key order
    expect(lines[1]).toBe(
      '{"signal_id":"id-2","strategy_id":"s1","strategy_type":"T","instrument_token":256265,"side":"BUY","quantity":1,"price":102,"tick_timestamp":1700000000002,"broker":"paper","reason":"why"}',
    );
  });

  it('counts the signals written; an empty write writes and counts nothing', async () => {
    const p = join(dir, 'count.jsonl');
    const sink = new JsonlSignalSink(p);
    expect(sink.count).toBe(0);
    await sink.write([signal(1), signal(2)]);
    await sink.write([]);
    await sink.write([signal(3)]);
    expect(sink.count).toBe(3);
    await sink.close();
    expect(readFileSync(p, 'utf8').split('\n').filter((l) => l !== '')).toHaveLength(3);
  });

  it('close() ends the file: everything written is on disk when it resolves, even a large backlog', async () => {
    const p = join(dir, 'big.jsonl');
    const sink = new JsonlSignalSink(p);
    // ~200 bytes per line × 5000 ≫ the 16 KiB write buffer: write() has to wait for 'drain'
    const signals = Array.from({ length: 5000 }, (_, i) => signal(i, { reason: 'x'.repeat(40) }));
    await sink.write(signals.slice(0, 2500));
    await sink.write(signals.slice(2500));
    await sink.flush();
    await sink.close();
    const lines = readFileSync(p, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(5000);
    expect((JSON.parse(lines[0]!) as Signal).signal_id).toBe('id-0');
    expect((JSON.parse(lines[4999]!) as Signal).signal_id).toBe('id-4999');
    expect(sink.count).toBe(5000);
  });

  it('a sink closed without writes leaves an empty file', async () => {
    const p = join(dir, 'empty.jsonl');
    const sink = new JsonlSignalSink(p);
    await sink.close();
    expect(existsSync(p)).toBe(true);
    expect(readFileSync(p, 'utf8')).toBe('');
  });

  it('undefined or "-" means stdout, which close() leaves open', async () => {
    const a = new JsonlSignalSink(undefined);
    const b = new JsonlSignalSink('-');
    expect(a.name).toBe('stdout');
    expect(b.name).toBe('stdout');
    await a.close();
    await b.close();
    expect(process.stdout.writableEnded).toBe(false);
  });

  // BUG: the file stream has no 'error' listener, so an output path that cannot be opened
  // (missing directory, no permission) raises an uncaught exception instead of failing write()/close().
  it('an unwritable path fails write()/close() instead of raising an uncaught exception', async () => {
    const p = join(dir, 'no-such-dir', 'out.jsonl');
    let closeError: unknown;
    const uncaught = await catchUncaught(async () => {
      const sink = new JsonlSignalSink(p);
      try {
        await sink.write([signal(1)]);
        await sink.close();
      } catch (err) {
        closeError = err;
      }
    });
    expect(uncaught).toEqual([]);
    expect(closeError).toBeInstanceOf(Error);
  });

  it('waits for drain many times over a large output without leaking listeners (no MaxListenersExceededWarning)', async () => {
    const p = join(dir, 'large.jsonl');
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      const sink = new JsonlSignalSink(p);
      // Each batch is larger than the stream's 16 KiB buffer: every write waits for 'drain'.
      const batch = Array.from({ length: 200 }, (_, i) => signal(i, { reason: 'x'.repeat(100) }));
      for (let round = 0; round < 25; round++) await sink.write(batch);
      // Writers that do not wait for each other (as the pipeline's rounds) wait for one drain together.
      await Promise.all(Array.from({ length: 25 }, () => sink.write(batch)));
      await sink.flush();
      await sink.close();
      // Warnings are emitted on the next tick.
      await new Promise((r) => setImmediate(r));
      expect(readFileSync(p, 'utf8').trimEnd().split('\n')).toHaveLength(50 * 200);
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([]);
  });
});
