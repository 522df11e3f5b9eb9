import { describe, it, expect } from 'vitest';
import { decodeFill, decodeFillValue, type FillDecodeResult } from '../../../src/domain/fill.js';

// 2024-01-01T09:15:00Z = 19723 days × 86 400 000 + 33 300 000 = 1 704 100 500 000 ms
const NINE_FIFTEEN_UTC = 1_704_100_500_000;

const base = {
  fill_id: 'f-1',
  order_id: 'o-1',
  strategy_id: 'mom-1',
  instrument_token: 256265,
  side: 'BUY',
  quantity: 10,
  price: 2500.5,
  timestamp: NINE_FIFTEEN_UTC,
  broker: 'paper',
};

function ok(r: FillDecodeResult) {
  if (!r.ok) throw new Error(`expected a fill, got: ${r.reason}`);
  return r.fill;
}

function reason(r: FillDecodeResult): string {
  if (r.ok) throw new Error(`expected a rejection, got ${JSON.stringify(r.fill)}`);
  return r.reason;
}

function without(key: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  const o: Record<string, unknown> = { ...base, ...over };
  delete o[key];
  return o;
}

describe('decodeFill', () => {
  it('decodes a complete fill', () => {
    expect(ok(decodeFill(JSON.stringify(base)))).toEqual(base);
  });

  it('accepts a fill without the optional order_id and broker', () => {
    const f = ok(decodeFillValue(without('order_id', { broker: undefined })));
    expect(f.order_id).toBeUndefined();
    expect(f.broker).toBeUndefined();
    expect(f.fill_id).toBe('f-1');
  });

  it('accepts SELL', () => {
    expect(ok(decodeFillValue({ ...base, side: 'SELL' })).side).toBe('SELL');
  });

  it('normalises an ISO timestamp with Z to epoch ms', () => {
    expect(ok(decodeFillValue({ ...base, timestamp: '2024-01-01T09:15:00Z' })).timestamp).toBe(NINE_FIFTEEN_UTC);
  });

  it('normalises an ISO timestamp with +05:30 to epoch ms', () => {
    // 09:15+05:30 = 03:45Z = 19723 days + 13 500 000 ms
    expect(ok(decodeFillValue({ ...base, timestamp: '2024-01-01T09:15:00+05:30' })).timestamp).toBe(1_704_067_200_000 + 13_500_000);
  });

  it('explains invalid JSON', () => {
    expect(reason(decodeFill('{"fill_id":'))).toMatch(/^not valid JSON: /);
  });

  it.each([
    ['fill_id', without('fill_id')],
    ['fill_id', { ...base, fill_id: '' }],
    ['strategy_id', without('strategy_id')],
    ['strategy_id', { ...base, strategy_id: '' }],
    ['instrument_token', { ...base, instrument_token: 1.5 }],
    ['instrument_token', { ...base, instrument_token: -3 }],
    ['side', { ...base, side: 'buy' }],
    ['side', { ...base, side: 'HOLD' }],
    ['quantity', { ...base, quantity: 0 }],
    ['quantity', { ...base, quantity: -10 }],
    ['price', { ...base, price: 0 }],
    ['price', { ...base, price: -1 }],
    ['price', { ...base, price: '2500' }],
    ['timestamp', { ...base, timestamp: '2024-01-01T09:15:00' }],
    ['timestamp', { ...base, timestamp: -1 }],
    ['timestamp', without('timestamp')],
    ['order_id', { ...base, order_id: '' }],
    ['broker', { ...base, broker: '' }],
  ])('rejects a bad %s and names it', (field, value) => {
    expect(reason(decodeFillValue(value))).toContain(field);
  });

  it('rejects non-objects', () => {
    expect(decodeFillValue(null).ok).toBe(false);
    expect(decodeFillValue([base]).ok).toBe(false);
    expect(reason(decodeFill('"fill"'))).toContain('(root)');
  });

  it('does not modify its input', () => {
    const input = { ...base, timestamp: '2024-01-01T09:15:00Z' };
    ok(decodeFillValue(input));
    expect(input.timestamp).toBe('2024-01-01T09:15:00Z');
  });
});
