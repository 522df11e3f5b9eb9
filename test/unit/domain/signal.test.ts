import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { SignalSchema, signalId } from '../../../src/domain/signal.js';

const UUID_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

type Args = Parameters<typeof signalId>;
const args: Args = ['mom-1', 'paper', 256265, 1_704_100_500_000, 2500.5, 0];

describe('signalId', () => {
  it('has the UUID version 5 layout', () => {
    expect(signalId(...args)).toMatch(UUID_V5);
  });

  it('is deterministic', () => {
    expect(signalId(...args)).toBe(signalId(...args));
    expect(signalId('a', 'b', 1, 2, 3, 4)).toBe(signalId('a', 'b', 1, 2, 3, 4));
  });

  it.each([
    ['strategy id', ['mom-2', 'paper', 256265, 1_704_100_500_000, 2500.5, 0]],
    ['broker', ['mom-1', 'zerodha', 256265, 1_704_100_500_000, 2500.5, 0]],
    ['instrument token', ['mom-1', 'paper', 256266, 1_704_100_500_000, 2500.5, 0]],
    ['tick timestamp', ['mom-1', 'paper', 256265, 1_704_100_500_001, 2500.5, 0]],
    ['price', ['mom-1', 'paper', 256265, 1_704_100_500_000, 2500.55, 0]],
    ['emit index', ['mom-1', 'paper', 256265, 1_704_100_500_000, 2500.5, 1]],
  ] satisfies [string, Args][])('changes when the %s changes', (_n, other: Args) => {
    expect(signalId(...other)).not.toBe(signalId(...args));
    expect(signalId(...other)).toMatch(UUID_V5);
  });

  it('is not fooled by moving characters between the strategy id and the broker', () => {
    expect(signalId('ab', 'c', 1, 2, 3, 0)).not.toBe(signalId('a', 'bc', 1, 2, 3, 0));
  });

  it('is the RFC 4122 name-based (SHA-1) UUID of the joined fields under the runner namespace', () => {
    // Independent RFC 4122 §4.3 construction: SHA-1(namespace bytes ‖ name), then
    // octet 6 high nibble := 5 (version), octet 8 top bits := 10 (variant).
    const ns = Buffer.from('6f1c3c1e5b7a4f0e9d2a8c4b3e1f0a7d', 'hex');
    const name = ['mom-1', 'paper', '256265', '1704100500000', '2500.5', '0'].join('\u0000');
    const h = createHash('sha1').update(Buffer.concat([ns, Buffer.from(name, 'utf8')])).digest();
    h[6] = (h[6]! & 0x0f) | 0x50;
    h[8] = (h[8]! & 0x3f) | 0x80;
    const hex = h.subarray(0, 16).toString('hex');
    const expected = [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join('-');
    expect(signalId(...args)).toBe(expected);
  });

  it('gives distinct ids for distinct emissions and always the v5 layout (property)', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.nat(),
        fc.nat(),
        fc.double({ min: 0.01, max: 1e6, noNaN: true }),
        fc.nat({ max: 10 }),
        (s, b, tok, ts, px, idx) => {
          const id = signalId(s, b, tok, ts, px, idx);
          expect(id).toMatch(UUID_V5);
          expect(signalId(s, b, tok, ts, px, idx + 1)).not.toBe(id);
          expect(signalId(s, b, tok + 1, ts, px, idx)).not.toBe(id);
        },
      ),
    );
  });
});

describe('SignalSchema', () => {
  const signal = {
    signal_id: signalId(...args),
    strategy_id: 'mom-1',
    strategy_type: 'SimpleMomentumStrategy',
    instrument_token: 256265,
    side: 'BUY',
    quantity: 1,
    price: 2500.5,
    tick_timestamp: 1_704_100_500_000,
    broker: 'paper',
  };

  it('accepts a complete signal with or without a reason', () => {
    expect(SignalSchema.safeParse(signal).success).toBe(true);
    expect(SignalSchema.safeParse({ ...signal, reason: 'momentum 0.1' }).success).toBe(true);
  });

  it.each([
    ['quantity 0', { quantity: 0 }],
    ['negative price', { price: -1 }],
    ['lower-case side', { side: 'buy' }],
    ['non-integer token', { instrument_token: 1.5 }],
  ])('rejects %s', (_n, over) => {
    expect(SignalSchema.safeParse({ ...signal, ...over }).success).toBe(false);
  });
});
