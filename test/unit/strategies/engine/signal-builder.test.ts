import { describe, it, expect } from 'vitest';
import { buildSignals, intentsOf, invalidIntent, tickOrigin } from '../../../../src/strategies/engine/signal-builder.js';
import { RunnerError } from '../../../../src/errors.js';
import { SignalSchema, signalId, type Signal, type SignalIntent } from '../../../../src/domain/signal.js';
import type { Tick } from '../../../../src/domain/tick.js';
import type { TickOutput } from '../../../../src/strategies/sdk/types.js';

const UUID_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const tick: Tick = { instrument_token: 256265, last_price: 24_567.5, timestamp: 1_704_100_500_000, volume: 10 };

describe('intentsOf', () => {
  it('undefined and null mean no intents', () => {
    expect(intentsOf(undefined, 's')).toEqual([]);
    expect(intentsOf(null, 's')).toEqual([]);
  });

  it('a single intent becomes a list of one', () => {
    const i: SignalIntent = { side: 'BUY', quantity: 2 };
    const out = intentsOf(i, 's');
    expect(out).toHaveLength(1);
    expect(out[0]).toBe(i);
  });

  it('an array is used as is (even empty)', () => {
    const arr: SignalIntent[] = [{ side: 'BUY' }, { side: 'SELL' }];
    expect(intentsOf(arr, 's')).toBe(arr);
    expect(intentsOf([], 's')).toEqual([]);
  });

  it('a Promise (or any thenable) is STRATEGY_OUTPUT_INVALID naming the strategy', () => {
    for (const out of [Promise.resolve({ side: 'BUY' }), { then: () => {} }]) {
      let caught: unknown;
      try {
        intentsOf(out as unknown as TickOutput, 'async-strat');
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(RunnerError);
      expect((caught as RunnerError).code).toBe('STRATEGY_OUTPUT_INVALID');
      expect((caught as RunnerError).message).toContain("'async-strat'");
      expect((caught as RunnerError).message).toContain('Promise');
      expect((caught as RunnerError).details).toEqual({ strategy_id: 'async-strat' });
    }
  });

  it('anything else is passed on as one intent, for invalidIntent to judge', () => {
    expect(intentsOf('BUY' as unknown as TickOutput, 's')).toEqual(['BUY']);
    expect(intentsOf(0 as unknown as TickOutput, 's')).toEqual([0]);
  });
});

describe('invalidIntent', () => {
  it.each([
    [{ side: 'BUY' }],
    [{ side: 'SELL', quantity: 0.5 }],
    [{ side: 'BUY', quantity: 100, reason: '' }],
    [{ side: 'BUY', type: 'MARKET', time_in_force: 'IOC', tag: 'entry-1' }],
    [{ side: 'SELL', type: 'LIMIT', limit_price: 101.5, time_in_force: 'GTC', quantity: 3 }],
    [{ side: 'BUY', tag: 'x'.repeat(64) }],
  ])('accepts %j', (intent) => {
    expect(invalidIntent(intent)).toBeUndefined();
  });

  it.each([
    [null, 'a signal intent must be an object, got null'],
    [undefined, 'a signal intent must be an object, got undefined'],
    ['BUY', 'a signal intent must be an object, got string'],
    [{}, 'side must be "BUY" or "SELL", got undefined'],
    [{ side: 'buy' }, 'side must be "BUY" or "SELL", got "buy"'],
    [{ side: 'HOLD' }, 'side must be "BUY" or "SELL", got "HOLD"'],
    [{ side: 'BUY', quantity: 0 }, 'quantity must be a finite number > 0, got 0'],
    [{ side: 'BUY', quantity: -1 }, 'quantity must be a finite number > 0, got -1'],
    [{ side: 'BUY', quantity: Number.NaN }, 'quantity must be a finite number > 0, got null'],
    [{ side: 'BUY', quantity: Infinity }, 'quantity must be a finite number > 0, got null'],
    [{ side: 'BUY', quantity: '1' }, 'quantity must be a finite number > 0, got "1"'],
    [{ side: 'BUY', quantity: null }, 'quantity must be a finite number > 0, got null'],
    [{ side: 'SELL', reason: 42 }, 'reason must be a string, got number'],
    [{ side: 'BUY', type: 'STOP' }, 'type must be "MARKET" or "LIMIT", got "STOP"'],
    [{ side: 'BUY', type: 'LIMIT' }, 'a LIMIT intent needs limit_price, a finite number > 0, got undefined'],
    [{ side: 'BUY', type: 'LIMIT', limit_price: -2 }, 'a LIMIT intent needs limit_price, a finite number > 0, got -2'],
    [{ side: 'BUY', limit_price: 100 }, 'limit_price is only for type "LIMIT" (this intent is a MARKET one by default)'],
    [{ side: 'BUY', type: 'MARKET', limit_price: 100 }, 'limit_price is only for type "LIMIT" (this intent is "MARKET")'],
    [{ side: 'BUY', time_in_force: 'DAY' }, 'time_in_force must be "GTC" or "IOC", got "DAY"'],
    [{ side: 'BUY', tag: 'x'.repeat(65) }, 'tag must be a string of at most 64 characters, got 65 characters'],
    [{ side: 'BUY', tag: 7 }, 'tag must be a string of at most 64 characters, got number'],
    // a typo must not pass as a market order without its limit
    [{ side: 'SELL', reason: 'x', limitPrice: 5 }, "unknown field 'limitPrice' (an intent has side, quantity, type, limit_price, time_in_force, tag, reason)"],
  ])('rejects %j', (intent, reason) => {
    expect(invalidIntent(intent)).toBe(reason);
  });
});

describe('buildSignals', () => {
  it('builds one signal per broker with the tick’s price and timestamp and a deterministic id', () => {
    const out: Signal[] = [];
    buildSignals({ side: 'SELL', quantity: 3, reason: 'r' }, 1, tickOrigin(tick), 'strat-1', 'Type', ['zerodha', 'paper'], out);
    expect(out).toEqual([
      {
        signal_id: signalId('strat-1', 'zerodha', 256265, 1_704_100_500_000, 24_567.5, 1),
        strategy_id: 'strat-1',
        strategy_type: 'Type',
        instrument_token: 256265,
        side: 'SELL',
        quantity: 3,
        price: 24_567.5,
        tick_timestamp: 1_704_100_500_000,
        broker: 'zerodha',
        reason: 'r',
      },
      {
        signal_id: signalId('strat-1', 'paper', 256265, 1_704_100_500_000, 24_567.5, 1),
        strategy_id: 'strat-1',
        strategy_type: 'Type',
        instrument_token: 256265,
        side: 'SELL',
        quantity: 3,
        price: 24_567.5,
        tick_timestamp: 1_704_100_500_000,
        broker: 'paper',
        reason: 'r',
      },
    ]);
    for (const s of out) {
      expect(s.signal_id).toMatch(UUID_V5);
      expect(SignalSchema.safeParse(s).success).toBe(true);
    }
    expect(out[0]!.signal_id).not.toBe(out[1]!.signal_id);
  });

  it('JSON key order is signal_id, strategy_id, strategy_type, instrument_token, side, quantity, price, tick_timestamp, broker[, reason]', () => {
    const out: Signal[] = [];
    buildSignals({ side: 'BUY' }, 0, tickOrigin(tick), 's', 'T', ['paper'], out);
    buildSignals({ side: 'BUY', reason: 'why' }, 0, tickOrigin(tick), 's', 'T', ['paper'], out);
    const base = ['signal_id', 'strategy_id', 'strategy_type', 'instrument_token', 'side', 'quantity', 'price', 'tick_timestamp', 'broker'];
    expect(Object.keys(JSON.parse(JSON.stringify(out[0])) as object)).toEqual(base);
    expect(Object.keys(JSON.parse(JSON.stringify(out[1])) as object)).toEqual([...base, 'reason']);
    expect(JSON.stringify(out[0])).toBe(
      `{"signal_id":"${out[0]!.signal_id}","strategy_id":"s","strategy_type":"T","instrument_token":256265,"side":"BUY","quantity":1,"price":24567.5,"tick_timestamp":1704100500000,"broker":"paper"}`,
    );
  });

  it('defaults quantity to 1, leaves reason out when absent and keeps an empty reason', () => {
    const out: Signal[] = [];
    buildSignals({ side: 'BUY' }, 0, tickOrigin(tick), 's', 'T', ['paper'], out);
    buildSignals({ side: 'BUY', reason: '' }, 0, tickOrigin(tick), 's', 'T', ['paper'], out);
    expect(out[0]!.quantity).toBe(1);
    expect('reason' in out[0]!).toBe(false);
    expect(out[1]!.reason).toBe('');
  });

  it('the id depends on strategy, broker, tick content and emission index, and nothing else', () => {
    const id = (strategy: string, broker: string, t: Tick, e: number, type = 'T', side: 'BUY' | 'SELL' = 'BUY'): string => {
      const out: Signal[] = [];
      buildSignals({ side, quantity: 7 }, e, tickOrigin(t), strategy, type, [broker], out);
      return out[0]!.signal_id;
    };
    const a = id('s', 'paper', tick, 0);
    expect(id('s', 'paper', { ...tick }, 0)).toBe(a); // same content, another object
    expect(id('s', 'paper', tick, 0, 'OtherType', 'SELL')).toBe(a); // type and side are not part of it
    expect(id('s2', 'paper', tick, 0)).not.toBe(a);
    expect(id('s', 'zerodha', tick, 0)).not.toBe(a);
    expect(id('s', 'paper', tick, 1)).not.toBe(a);
    expect(id('s', 'paper', { ...tick, last_price: 24_567.55 }, 0)).not.toBe(a);
    expect(id('s', 'paper', { ...tick, timestamp: tick.timestamp + 1 }, 0)).not.toBe(a);
    expect(id('s', 'paper', { ...tick, instrument_token: 1 }, 0)).not.toBe(a);
  });

  it('appends to the given array without touching what is there', () => {
    const existing: Signal[] = [];
    buildSignals({ side: 'BUY' }, 0, tickOrigin(tick), 's', 'T', ['a'], existing);
    const first = existing[0];
    buildSignals({ side: 'SELL' }, 1, tickOrigin(tick), 's', 'T', ['b', 'c'], existing);
    expect(existing).toHaveLength(3);
    expect(existing[0]).toBe(first);
    expect(existing.map((s) => `${s.broker}:${s.side}`)).toEqual(['a:BUY', 'b:SELL', 'c:SELL']);
  });
});
