import { describe, it, expect } from 'vitest';
import { z } from 'zod';
import type { Tick } from '../../../src/domain/tick.js';
import {
  BASE_STRATEGY_BRAND,
  BaseStrategy,
  definitionFromClass,
  isStrategyClass,
} from '../../../src/strategies/sdk/base-strategy.js';
import { DEFINITION_BRAND, defineStrategy } from '../../../src/strategies/sdk/define-strategy.js';
import type { TickContext, TickOutput } from '../../../src/strategies/sdk/types.js';
import { fakeContext, fakeTickContext, tick } from './helpers.js';

/** Buys above `level`, sells below it, using every helper form. */
class Threshold extends BaseStrategy<{ level: number; size: number }> {
  static readonly type = 'Threshold';
  static readonly description = 'buys above level, sells below';
  static readonly params = z.object({ level: z.number(), size: z.number().positive().default(2) });

  readonly seen: number[] = [];

  onTick(t: Tick, ctx: TickContext): TickOutput {
    this.seen.push(t.last_price);
    if (ctx.portfolio.fillCount !== 0) throw new Error('expected an empty portfolio');
    if (t.last_price > this.params.level) return this.buy(this.params.size, `above ${this.params.level}`);
    if (t.last_price < this.params.level) return this.sell(this.params.size);
    return undefined;
  }

  // expose the protected helpers for direct checks
  bareBuy() {
    return this.buy();
  }
  bareSell() {
    return this.sell();
  }
  sellWithReason() {
    return this.sell(undefined, 'why');
  }
}

class NoDescription extends BaseStrategy<Record<string, never>> {
  static readonly type = 'NoDescription';
  static readonly params = z.object({});
  onTick(): TickOutput {
    return [this.buy(1), this.sell(1)];
  }
}

describe('definitionFromClass', () => {
  const def = definitionFromClass(Threshold);

  it('copies type, params and description from the statics', () => {
    expect(def.type).toBe('Threshold');
    expect(def.params).toBe(Threshold.params);
    expect(def.description).toBe('buys above level, sells below');
  });

  it('leaves description out when the class has none', () => {
    const d = definitionFromClass(NoDescription);
    expect(d.type).toBe('NoDescription');
    expect('description' in d).toBe(false);
  });

  it('returns a frozen, branded definition', () => {
    expect(Object.isFrozen(def)).toBe(true);
    expect((def as unknown as Record<symbol, unknown>)[DEFINITION_BRAND]).toBe(true);
  });

  it('create() constructs a new instance of the class with the params and context each time', () => {
    const ctx = fakeContext('Threshold', [5], 'thr-1');
    const params = Threshold.params.parse({ level: 100 });
    const a = def.create(params, ctx);
    const b = def.create(params, ctx);
    expect(a).toBeInstanceOf(Threshold);
    expect(a).not.toBe(b);
    const inst = a as Threshold;
    expect(inst.params).toEqual({ level: 100, size: 2 });
    expect(inst.context).toBe(ctx);
    expect(inst.strategyId).toBe('thr-1');
  });

  it('instances produce intents through onTick', () => {
    const ctx = fakeContext('Threshold', [5]);
    const inst = def.create(Threshold.params.parse({ level: 100, size: 3 }), ctx) as Threshold;
    const tctx = fakeTickContext(ctx);
    expect(inst.onTick(tick(5, 101), tctx)).toEqual({ side: 'BUY', quantity: 3, reason: 'above 100' });
    expect(inst.onTick(tick(5, 99), tctx)).toEqual({ side: 'SELL', quantity: 3 });
    expect(inst.onTick(tick(5, 100), tctx)).toBeUndefined();
    expect(inst.seen).toEqual([101, 99, 100]);
  });

  it('instances have separate state', () => {
    const ctx = fakeContext('Threshold', [5]);
    const p = Threshold.params.parse({ level: 1 });
    const a = def.create(p, ctx) as Threshold;
    const b = def.create(p, ctx) as Threshold;
    a.onTick(tick(5, 2), fakeTickContext(ctx));
    expect(a.seen).toEqual([2]);
    expect(b.seen).toEqual([]);
  });
});

describe('BaseStrategy buy/sell helpers', () => {
  const inst = new Threshold({ level: 0, size: 1 }, fakeContext('Threshold'));

  it('leave quantity and reason out when not given', () => {
    const b = inst.bareBuy();
    expect(b).toEqual({ side: 'BUY' });
    expect(Object.keys(b)).toEqual(['side']);
    const s = inst.bareSell();
    expect(s).toEqual({ side: 'SELL' });
    expect(Object.keys(s)).toEqual(['side']);
  });

  it('include a reason without a quantity', () => {
    const s = inst.sellWithReason();
    expect(s).toEqual({ side: 'SELL', reason: 'why' });
    expect('quantity' in s).toBe(false);
  });

  it('can return several intents from one tick', () => {
    const ctx = fakeContext('NoDescription');
    const d = definitionFromClass(NoDescription);
    expect(d.create({}, ctx).onTick(tick(1, 1), fakeTickContext(ctx))).toEqual([
      { side: 'BUY', quantity: 1 },
      { side: 'SELL', quantity: 1 },
    ]);
  });
});

describe('isStrategyClass', () => {
  it('is true for subclasses (the brand is inherited)', () => {
    expect(isStrategyClass(Threshold)).toBe(true);
    expect(isStrategyClass(NoDescription)).toBe(true);
    expect((Threshold as unknown as Record<symbol, unknown>)[BASE_STRATEGY_BRAND]).toBe(true);
  });

  it('is false for BaseStrategy itself and for non-strategies', () => {
    class Plain {
      static readonly type = 'Plain';
      static readonly params = z.object({});
    }
    expect(isStrategyClass(BaseStrategy)).toBe(false);
    expect(isStrategyClass(Plain)).toBe(false);
    expect(isStrategyClass(() => undefined)).toBe(false);
    expect(isStrategyClass({ [BASE_STRATEGY_BRAND]: true })).toBe(false);
    expect(isStrategyClass(null)).toBe(false);
    expect(isStrategyClass(new Threshold({ level: 0, size: 1 }, fakeContext('Threshold')))).toBe(false);
  });
});

describe('defineStrategy', () => {
  it('returns a frozen, branded copy of the definition', () => {
    const src = { type: 'Comp', params: z.object({}), create: () => ({ onTick: () => undefined }) };
    const d = defineStrategy(src);
    expect(d).not.toBe(src);
    expect(d.type).toBe('Comp');
    expect(d.params).toBe(src.params);
    expect(d.create).toBe(src.create);
    expect(Object.isFrozen(d)).toBe(true);
    expect((d as unknown as Record<symbol, unknown>)[DEFINITION_BRAND]).toBe(true);
  });
});
