import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { TickWireSchema, decodeTick, decodeTickValue, type TickDecodeResult } from '../../../src/domain/tick.js';

// 2024-01-01T00:00:00Z: 54 years after 1970 with 13 leap days (1972…2020) → (54·365 + 13) days = 19723 days
//   19723 × 86 400 000 = 1 704 067 200 000 ms
const JAN1_2024 = 1_704_067_200_000;
// 09:15:00 = (9·60 + 15)·60 000 = 33 300 000 ms
const NINE_FIFTEEN_UTC = JAN1_2024 + 33_300_000; // 1 704 100 500 000

function ok(r: TickDecodeResult) {
  if (!r.ok) throw new Error(`expected a tick, got: ${r.reason}`);
  return r.tick;
}

function reason(r: TickDecodeResult): string {
  if (r.ok) throw new Error(`expected a rejection, got tick ${JSON.stringify(r.tick)}`);
  return r.reason;
}

const base = { instrument_token: 256265, last_price: 2500.5, timestamp: NINE_FIFTEEN_UTC };
const line = (over: Record<string, unknown>, drop: string[] = []): string => {
  const o: Record<string, unknown> = { ...base, ...over };
  for (const k of drop) delete o[k];
  return JSON.stringify(o);
};

describe('decodeTick: accepted ticks', () => {
  it('keeps a numeric epoch-ms timestamp as is', () => {
    const t = ok(decodeTick(line({})));
    expect(t).toEqual({ instrument_token: 256265, last_price: 2500.5, timestamp: NINE_FIFTEEN_UTC });
  });

  it('accepts timestamp 0 and token 0', () => {
    const t = ok(decodeTick(line({ timestamp: 0, instrument_token: 0 })));
    expect(t.timestamp).toBe(0);
    expect(t.instrument_token).toBe(0);
  });

  it('normalises an ISO timestamp with Z to epoch ms', () => {
    expect(ok(decodeTick(line({ timestamp: '2024-01-01T09:15:00Z' }))).timestamp).toBe(NINE_FIFTEEN_UTC);
  });

  it('normalises an ISO timestamp with a +05:30 offset to epoch ms', () => {
    // 09:15 at +05:30 is 03:45 UTC: 3h45m = 13 500 000 ms after midnight UTC
    expect(ok(decodeTick(line({ timestamp: '2024-01-01T09:15:00+05:30' }))).timestamp).toBe(JAN1_2024 + 13_500_000);
  });

  it('normalises a negative offset', () => {
    // 09:15 at −04:00 is 13:15 UTC: (13·60 + 15)·60 000 = 47 700 000 ms
    expect(ok(decodeTick(line({ timestamp: '2024-01-01T09:15:00-04:00' }))).timestamp).toBe(JAN1_2024 + 47_700_000);
  });

  it('keeps milliseconds of an ISO timestamp', () => {
    expect(ok(decodeTick(line({ timestamp: '2024-01-01T09:15:00.250Z' }))).timestamp).toBe(NINE_FIFTEEN_UTC + 250);
  });

  it('accepts a space instead of T between date and time', () => {
    expect(ok(decodeTick(line({ timestamp: '2024-01-01 09:15:00Z' }))).timestamp).toBe(NINE_FIFTEEN_UTC);
  });

  it('keeps extra fields untouched', () => {
    const t = ok(decodeTick(line({ volume: 1200, oi: 55, exchange: 'NSE', depth: { buy: [1, 2] } })));
    expect(t.volume).toBe(1200);
    expect(t['oi']).toBe(55);
    expect(t['exchange']).toBe('NSE');
    expect(t['depth']).toEqual({ buy: [1, 2] });
  });

  it('accepts volume 0', () => {
    expect(ok(decodeTick(line({ volume: 0 }))).volume).toBe(0);
  });

  it('accepts a tiny positive price', () => {
    expect(ok(decodeTick(line({ last_price: 0.0001 }))).last_price).toBe(0.0001);
  });
});

describe('decodeTick: rejected ticks', () => {
  it('explains invalid JSON', () => {
    expect(reason(decodeTick('{"instrument_token": 1,'))).toMatch(/^not valid JSON: /);
    expect(reason(decodeTick(''))).toMatch(/^not valid JSON/);
  });

  it.each([
    ['an array', '[1,2,3]'],
    ['null', 'null'],
    ['a number', '42'],
    ['a string', '"tick"'],
  ])('rejects %s: a tick must be an object', (_n, text) => {
    expect(reason(decodeTick(text))).toBe('tick must be a JSON object');
  });

  it('rejects a missing instrument_token and names it', () => {
    expect(reason(decodeTick(line({}, ['instrument_token'])))).toContain('instrument_token');
  });

  it.each([
    ['non-integer', 1.5],
    ['negative', -1],
    ['string', '256265'],
    ['null', null],
  ])('rejects a %s instrument_token', (_n, v) => {
    expect(reason(decodeTick(line({ instrument_token: v })))).toContain('instrument_token');
  });

  it('rejects an instrument_token beyond the safe integer range, as the schema does', () => {
    // 2^53 + 1 = 9007199254740993 parses to 2^53: two distinct tokens would collide, so it must not be accepted
    const r = decodeTick('{"instrument_token": 9007199254740993, "last_price": 10, "timestamp": 0}');
    expect(TickWireSchema.safeParse(JSON.parse('{"instrument_token": 9007199254740993, "last_price": 10, "timestamp": 0}')).success).toBe(false);
    expect(r.ok).toBe(false);
  });

  it.each([
    ['0', 0],
    ['negative', -5],
    ['a string', '2500.5'],
    ['null', null],
  ])('rejects last_price %s', (_n, v) => {
    expect(reason(decodeTick(line({ last_price: v })))).toContain('last_price');
  });

  it('rejects an infinite last_price (1e999 in JSON)', () => {
    expect(reason(decodeTick('{"instrument_token": 1, "last_price": 1e999, "timestamp": 0}'))).toContain('last_price');
  });

  it('rejects a missing last_price', () => {
    expect(reason(decodeTick(line({}, ['last_price'])))).toContain('last_price');
  });

  it('rejects a missing timestamp', () => {
    expect(reason(decodeTick(line({}, ['timestamp'])))).toContain('timestamp');
  });

  it('rejects an ISO timestamp without a zone', () => {
    const r = reason(decodeTick(line({ timestamp: '2024-01-01T09:15:00' })));
    expect(r).toContain('timestamp');
    expect(r).toContain('zone');
  });

  it.each([
    ['a date only', '2024-01-01'],
    ['a non-date string', 'yesterday'],
    ['an empty string', ''],
    ['an impossible time', '2024-01-01T09:61:00Z'],
    ['an hour-only offset', '2024-01-01T09:15:00+05'],
    ['a pre-1970 instant', '1969-12-31T23:59:59Z'],
    ['a negative number', -1],
    ['a boolean', true],
    ['null', null],
  ])('rejects a timestamp that is %s', (_n, v) => {
    expect(reason(decodeTick(line({ timestamp: v })))).toContain('timestamp');
  });

  it('rejects a calendar date that does not exist (30 February)', () => {
    // 2024-02-30 is not a date; it must not be silently read as 2024-03-01
    expect(decodeTick(line({ timestamp: '2024-02-30T09:15:00Z' })).ok).toBe(false);
  });

  it.each([
    ['negative', -1],
    ['a string', '100'],
    ['null', null],
  ])('rejects a volume that is %s', (_n, v) => {
    expect(reason(decodeTick(line({ volume: v })))).toContain('volume');
  });

  it('lists every problem, one per field', () => {
    const r = reason(decodeTick(JSON.stringify({ instrument_token: -1, last_price: 0, timestamp: 'x' })));
    expect(r).toContain('instrument_token');
    expect(r).toContain('last_price');
    expect(r).toContain('timestamp');
    expect(r.split('; ')).toHaveLength(3);
  });
});

describe('decodeTickValue', () => {
  it('normalises the timestamp in place and returns the same object', () => {
    const v = { instrument_token: 1, last_price: 10, timestamp: '2024-01-01T09:15:00Z', extra: 'x' };
    const r = decodeTickValue(v);
    expect(r.ok).toBe(true);
    expect(ok(r)).toBe(v);
    expect(v.timestamp).toBe(NINE_FIFTEEN_UTC);
  });

  it('rejects non-objects', () => {
    expect(decodeTickValue(undefined)).toEqual({ ok: false, reason: 'tick must be a JSON object' });
    expect(decodeTickValue([])).toEqual({ ok: false, reason: 'tick must be a JSON object' });
    expect(decodeTickValue('x')).toEqual({ ok: false, reason: 'tick must be a JSON object' });
  });

  it('rejects NaN prices and volumes (possible from non-JSON callers)', () => {
    expect(decodeTickValue({ instrument_token: 1, last_price: NaN, timestamp: 0 }).ok).toBe(false);
    expect(decodeTickValue({ instrument_token: 1, last_price: 1, timestamp: 0, volume: NaN }).ok).toBe(false);
    expect(decodeTickValue({ instrument_token: 1, last_price: 1, timestamp: NaN }).ok).toBe(false);
  });

  it('accepts exactly the values TickWireSchema accepts (property)', () => {
    const token = fc.oneof(
      fc.constantFrom<unknown>(0, 1, 256265, 2 ** 31, Number.MAX_SAFE_INTEGER, 2 ** 53, 1e21, -1, -0, 1.5, NaN, Infinity, '1', null, true),
      fc.integer(),
      fc.double(),
    );
    const price = fc.oneof(
      fc.constantFrom<unknown>(0, -0, 1e-9, 100.5, Number.MAX_VALUE, Infinity, -Infinity, NaN, -1, '100', null, false),
      fc.double(),
    );
    const timestamp = fc.oneof(
      fc.constantFrom<unknown>(
        0, NINE_FIFTEEN_UTC, -1, 1.5, Infinity, NaN, null, '',
        '2024-01-01T09:15:00Z', '2024-01-01T09:15:00+05:30', '2024-01-01 09:15Z', '2024-01-01T09:15:00.123456Z',
        '2024-01-01T09:15:00', '2024-01-01', '1969-12-31T23:59:59Z', '2024-13-01T00:00:00Z', 'now',
      ),
      fc.double(),
      fc.string(),
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    );
    const volume = fc.oneof(
      fc.constantFrom<unknown>(undefined, 0, 10, 1.5, -1, Infinity, NaN, '5', null),
      fc.double(),
    );
    const extra = fc.oneof(fc.string(), fc.double(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }));
    const tickLike = fc.record(
      { instrument_token: token, last_price: price, timestamp, volume, exchange: extra, oi: extra },
      { requiredKeys: [] },
    );
    const anything = fc.oneof(
      { weight: 10, arbitrary: tickLike },
      { weight: 1, arbitrary: fc.constantFrom<unknown>(null, [], 'tick', 7, true) },
    );
    fc.assert(
      fc.property(anything, (value) => {
        const schemaOk = TickWireSchema.safeParse(structuredClone(value)).success;
        const fastOk = decodeTickValue(structuredClone(value)).ok;
        expect(fastOk).toBe(schemaOk);
      }),
      { numRuns: 2000 },
    );
  });
});
