import { describe, it, expect } from 'vitest';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { StrategyConfigSchema, type StrategyConfigInput } from '../../../src/config/strategy-config.js';
import { RunnerError } from '../../../src/errors.js';
import { MeanReversionStrategy, SimpleMomentumStrategy } from '../../../src/strategies/builtin/index.js';
import { StrategyRegistry, collectDefinitions } from '../../../src/strategies/registry.js';
import { BaseStrategy } from '../../../src/strategies/sdk/base-strategy.js';
import { defineStrategy } from '../../../src/strategies/sdk/define-strategy.js';
import type { TickOutput } from '../../../src/strategies/sdk/types.js';
import { fakeContext, fakeTickContext, tick } from './helpers.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

function config(input: Partial<StrategyConfigInput> & { id: string; strategy_type: string }) {
  return StrategyConfigSchema.parse({ instruments: [256265], ...input });
}

/** Run fn, expect it to throw a RunnerError, return that error. */
function thrown(fn: () => unknown): RunnerError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RunnerError);
    return err as RunnerError;
  }
  throw new Error('expected a RunnerError, nothing was thrown');
}

async function rejected(p: Promise<unknown>): Promise<RunnerError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(RunnerError);
    return err as RunnerError;
  }
  throw new Error('expected a RunnerError, the promise resolved');
}

const Dummy = defineStrategy({
  type: 'Dummy',
  params: z.object({ size: z.number().int().min(1).default(4) }),
  create: () => ({ onTick: () => undefined }),
});

class ClassStyle extends BaseStrategy<{ k: number }> {
  static readonly type = 'ClassStyle';
  static readonly params = z.object({ k: z.number().default(2) });
  onTick(): TickOutput {
    return this.sell(this.params.k);
  }
}

describe('StrategyRegistry built-ins', () => {
  it('registers SimpleMomentumStrategy and MeanReversionStrategy by default', () => {
    const reg = new StrategyRegistry();
    expect(reg.types()).toEqual(['MeanReversionStrategy', 'SimpleMomentumStrategy']);
    expect(reg.get('SimpleMomentumStrategy')).toBe(SimpleMomentumStrategy);
    expect(reg.get('MeanReversionStrategy')).toBe(MeanReversionStrategy);
    expect(reg.has('SimpleMomentumStrategy')).toBe(true);
    expect(reg.originOf('MeanReversionStrategy')).toBe('builtin');
  });

  it('can be built without built-ins', () => {
    const reg = new StrategyRegistry({ builtins: false });
    expect(reg.types()).toEqual([]);
    expect(reg.has('SimpleMomentumStrategy')).toBe(false);
    expect(reg.get('SimpleMomentumStrategy')).toBeUndefined();
  });

  it('lists types sorted', () => {
    const reg = new StrategyRegistry();
    reg.register(Dummy);
    expect(reg.types()).toEqual(['Dummy', 'MeanReversionStrategy', 'SimpleMomentumStrategy']);
    expect(reg.originOf('Dummy')).toBe('code');
    expect(reg.originOf('Nope')).toBeUndefined();
  });
});

describe('StrategyRegistry.register', () => {
  it('rejects a second definition of the same type with STRATEGY_DUPLICATE_TYPE naming both origins', () => {
    const reg = new StrategyRegistry();
    reg.register(Dummy, 'first-origin');
    const clash = defineStrategy({ type: 'Dummy', params: z.object({}), create: () => ({ onTick: () => undefined }) });
    const err = thrown(() => reg.register(clash, 'second-origin'));
    expect(err.code).toBe('STRATEGY_DUPLICATE_TYPE');
    expect(err.message).toContain("'Dummy'");
    expect(err.message).toContain('second-origin');
    expect(err.message).toContain('first-origin');
    expect(err.details).toMatchObject({ strategy_type: 'Dummy', origin: 'second-origin', existing: 'first-origin' });
    expect(err.retryable).toBe(false);
    // the first registration stays
    expect(reg.get('Dummy')).toBe(Dummy);
  });

  it('rejects re-registering a built-in type', () => {
    const reg = new StrategyRegistry();
    const err = thrown(() => reg.register(SimpleMomentumStrategy));
    expect(err.code).toBe('STRATEGY_DUPLICATE_TYPE');
    expect(err.message).toContain('builtin');
  });
});

describe('StrategyRegistry.resolve', () => {
  it('returns the definition and the parameters with defaults applied', () => {
    const reg = new StrategyRegistry();
    const cfg = config({ id: 'mom-1', strategy_type: 'SimpleMomentumStrategy', parameters: { lookback_period: 5 } });
    const r = reg.resolve(cfg);
    expect(r.config).toBe(cfg);
    expect(r.definition).toBe(SimpleMomentumStrategy);
    expect(r.params).toEqual({ lookback_period: 5, momentum_threshold: 0.01, quantity: 1 });
  });

  it('fills every default for empty parameters', () => {
    const reg = new StrategyRegistry();
    const r = reg.resolve(config({ id: 'mr-1', strategy_type: 'MeanReversionStrategy' }));
    expect(r.params).toEqual({ lookback_period: 50, deviation_threshold: 1.5, quantity: 1 });
  });

  it('reports an unknown type with STRATEGY_TYPE_UNKNOWN, the strategy id and the known types', () => {
    const reg = new StrategyRegistry();
    reg.register(Dummy);
    const err = thrown(() => reg.resolve(config({ id: 'my-strat-7', strategy_type: 'Momentun' })));
    expect(err.code).toBe('STRATEGY_TYPE_UNKNOWN');
    expect(err.message).toContain("'my-strat-7'");
    expect(err.message).toContain("'Momentun'");
    for (const t of ['Dummy', 'MeanReversionStrategy', 'SimpleMomentumStrategy']) expect(err.message).toContain(t);
    expect(err.details).toEqual({
      strategy_id: 'my-strat-7',
      strategy_type: 'Momentun',
      known_types: ['Dummy', 'MeanReversionStrategy', 'SimpleMomentumStrategy'],
    });
  });

  it('reports bad parameters with STRATEGY_PARAMS_INVALID, the strategy id and the field', () => {
    const reg = new StrategyRegistry();
    const err = thrown(() =>
      reg.resolve(config({ id: 'mr-bad', strategy_type: 'MeanReversionStrategy', parameters: { lookback_period: 1 } })),
    );
    expect(err.code).toBe('STRATEGY_PARAMS_INVALID');
    expect(err.message).toContain("'mr-bad'");
    expect(err.message).toContain('MeanReversionStrategy');
    expect(err.message).toContain('lookback_period');
    expect(err.details['strategy_id']).toBe('mr-bad');
    const issues = err.details['issues'] as { field: string; message: string }[];
    expect(issues.map((i) => i.field)).toEqual(['lookback_period']);
  });

  it('names every bad field', () => {
    const reg = new StrategyRegistry();
    const err = thrown(() =>
      reg.resolve(
        config({ id: 'mom-bad', strategy_type: 'SimpleMomentumStrategy', parameters: { momentum_threshold: 0, quantity: -1 } }),
      ),
    );
    expect(err.code).toBe('STRATEGY_PARAMS_INVALID');
    expect(err.message).toContain('momentum_threshold');
    expect(err.message).toContain('quantity');
    const fields = (err.details['issues'] as { field: string }[]).map((i) => i.field).sort();
    expect(fields).toEqual(['momentum_threshold', 'quantity']);
  });

  it('rejects a misspelled parameter with STRATEGY_PARAMS_INVALID naming the strategy, the key and the key it resembles', () => {
    const reg = new StrategyRegistry();
    const err = thrown(() => reg.resolve(config({ id: 'mom-typo', strategy_type: 'SimpleMomentumStrategy', parameters: { lookbak_period: 3 } })));
    expect(err.code).toBe('STRATEGY_PARAMS_INVALID');
    expect(err.message).toBe(
      "strategy 'mom-typo' (SimpleMomentumStrategy): invalid parameters: unknown key 'lookbak_period' (did you mean 'lookback_period'?)",
    );
    expect(err.details).toMatchObject({
      strategy_id: 'mom-typo',
      strategy_type: 'SimpleMomentumStrategy',
      issues: [{ field: 'lookbak_period', message: expect.stringContaining('unknown key'), suggestion: 'lookback_period' }],
    });
  });

  it('lists the known parameters when an unknown one resembles none, and reports it together with bad values', () => {
    const reg = new StrategyRegistry();
    const err = thrown(() =>
      reg.resolve(config({ id: 'mr', strategy_type: 'MeanReversionStrategy', parameters: { window: 30, deviation_threshold: -1 } })),
    );
    expect(err.code).toBe('STRATEGY_PARAMS_INVALID');
    expect(err.message).toContain("unknown key 'window' (known keys: lookback_period, deviation_threshold, quantity)");
    expect(err.message).toContain('deviation_threshold: ');
    expect((err.details['issues'] as { field: string }[]).map((i) => i.field)).toEqual(['window', 'deviation_threshold']);
  });

  it("checks user schemas too: defineStrategy and BaseStrategy statics, nested objects, through .default() and .transform()", () => {
    const Nested = defineStrategy({
      type: 'Nested',
      params: z
        .object({ risk: z.object({ max_position: z.number().default(1) }).default({ max_position: 1 }), size: z.number().default(1) })
        .transform((p) => ({ ...p, total: p.size * p.risk.max_position })),
      create: () => ({ onTick: () => undefined }),
    });
    const reg = new StrategyRegistry({ builtins: false });
    reg.register(Nested);
    for (const d of collectDefinitions({ ClassStyle })) reg.register(d);
    const nested = thrown(() => reg.resolve(config({ id: 'n', strategy_type: 'Nested', parameters: { risk: { max_positon: 2 } } })));
    expect(nested.message).toBe("strategy 'n' (Nested): invalid parameters: risk: unknown key 'max_positon' (did you mean 'max_position'?)");
    expect((nested.details['issues'] as { field: string }[])[0]!.field).toBe('risk.max_positon');
    const cls = thrown(() => reg.resolve(config({ id: 'c', strategy_type: 'ClassStyle', parameters: { K: 3 } })));
    expect(cls.message).toContain("unknown key 'K' (did you mean 'k'?)");
    expect(reg.resolve(config({ id: 'ok', strategy_type: 'Nested', parameters: { risk: { max_position: 2 }, size: 3 } })).params).toEqual({
      risk: { max_position: 2 },
      size: 3,
      total: 6,
    });
  });

  it('accepts unknown keys where the strategy declares its parameters open (passthrough, catchall) or not an object schema', () => {
    const reg = new StrategyRegistry({ builtins: false });
    const open = (type: string, params: z.ZodType) => reg.register(defineStrategy({ type, params, create: () => ({ onTick: () => undefined }) }));
    open('Loose', z.object({ a: z.number().default(1) }).passthrough());
    open('Catchall', z.object({ a: z.number().default(1) }).catchall(z.number()));
    open('Record', z.record(z.string(), z.number()));
    expect(reg.resolve(config({ id: 'l', strategy_type: 'Loose', parameters: { b: 2 } })).params).toEqual({ a: 1, b: 2 });
    expect(reg.resolve(config({ id: 'c', strategy_type: 'Catchall', parameters: { b: 2 } })).params).toEqual({ a: 1, b: 2 });
    expect(reg.resolve(config({ id: 'r', strategy_type: 'Record', parameters: { b: 2 } })).params).toEqual({ b: 2 });
  });

  it('resolves a class-style strategy registered through its definition', () => {
    const reg = new StrategyRegistry({ builtins: false });
    for (const d of collectDefinitions({ ClassStyle })) reg.register(d);
    const r = reg.resolve(config({ id: 'cls', strategy_type: 'ClassStyle' }));
    expect(r.params).toEqual({ k: 2 });
    const ctx = fakeContext('ClassStyle');
    const inst = r.definition.create(r.params, ctx);
    expect(inst).toBeInstanceOf(ClassStyle);
    expect(inst.onTick(tick(1, 100), fakeTickContext(ctx))).toEqual({ side: 'SELL', quantity: 2 });
  });
});

describe('collectDefinitions', () => {
  it('finds defineStrategy objects among named exports and ignores everything else', () => {
    const found = collectDefinitions({ Dummy, VERSION: '1', helper: () => 1, schema: z.object({}), nothing: null });
    expect(found).toEqual([Dummy]);
  });

  it('finds plain definition objects that were not made with defineStrategy', () => {
    const plain = { type: 'Plain', params: z.object({}), create: () => ({ onTick: () => undefined }) };
    expect(collectDefinitions({ plain })).toEqual([plain]);
  });

  it('rejects objects that only look partly like definitions', () => {
    const noType = { params: z.object({}), create: () => ({ onTick: () => undefined }) };
    const noCreate = { type: 'X', params: z.object({}) };
    const paramsNotZod = { type: 'Y', params: { lookback: 3 }, create: () => ({ onTick: () => undefined }) };
    const typeNotString = { type: 7, params: z.object({}), create: () => ({ onTick: () => undefined }) };
    expect(collectDefinitions({ noType, noCreate, paramsNotZod, typeNotString })).toEqual([]);
  });

  it('turns BaseStrategy subclasses with static type and params into definitions', () => {
    const found = collectDefinitions({ ClassStyle });
    expect(found).toHaveLength(1);
    expect(found[0]!.type).toBe('ClassStyle');
    expect(found[0]!.params).toBe(ClassStyle.params);
  });

  it('does not treat BaseStrategy itself as a strategy', () => {
    expect(collectDefinitions({ BaseStrategy })).toEqual([]);
  });

  it('ignores a BaseStrategy subclass without static type and params (e.g. an exported intermediate base class)', () => {
    abstract class SharedBase extends BaseStrategy {
      protected half(x: number): number {
        return x / 2;
      }
    }
    const found = collectDefinitions({ SharedBase, ClassStyle });
    // only ClassStyle is a complete strategy: SharedBase has no type and no params schema
    expect(found.map((d) => d.type)).toEqual(['ClassStyle']);
  });

  it('looks inside an array default export', () => {
    const Other = defineStrategy({ type: 'Other', params: z.object({}), create: () => ({ onTick: () => undefined }) });
    const found = collectDefinitions({ default: [Dummy, Other, ClassStyle] });
    expect(found.map((d) => d.type)).toEqual(['Dummy', 'Other', 'ClassStyle']);
  });

  it('counts a definition exported twice (named and in the default array) once', () => {
    const found = collectDefinitions({ Dummy, default: [Dummy], alias: Dummy });
    expect(found).toEqual([Dummy]);
  });

  it('returns nothing for an empty module', () => {
    expect(collectDefinitions({})).toEqual([]);
  });
});

describe('StrategyRegistry.loadModule', () => {
  it('registers the definitions of a module given by a path relative to baseDir', async () => {
    const reg = new StrategyRegistry();
    const types = await reg.loadModule('./named-definition.mjs', FIXTURES);
    expect(types).toEqual(['FixtureAlwaysBuy']);
    expect(reg.has('FixtureAlwaysBuy')).toBe(true);
    expect(reg.originOf('FixtureAlwaysBuy')).toBe("module './named-definition.mjs'");
    // the loaded definition works end to end
    const r = reg.resolve(config({ id: 'fx', strategy_type: 'FixtureAlwaysBuy' }));
    expect(r.params).toEqual({ quantity: 3 });
    const ctx = fakeContext('FixtureAlwaysBuy');
    expect(r.definition.create(r.params, ctx).onTick(tick(1, 10), fakeTickContext(ctx))).toEqual({ side: 'BUY', quantity: 3 });
  });

  it('accepts an absolute path and a file: URL', async () => {
    const abs = `${FIXTURES}default-array.mjs`;
    const reg1 = new StrategyRegistry({ builtins: false });
    expect((await reg1.loadModule(abs, '/nonexistent-base')).sort()).toEqual(['FixtureArrayOne', 'FixtureArrayTwo']);
    const reg2 = new StrategyRegistry({ builtins: false });
    expect((await reg2.loadModule(pathToFileURL(abs).href, '/')).sort()).toEqual(['FixtureArrayOne', 'FixtureArrayTwo']);
  });

  it('finds definitions in a default array export, counting a re-exported one once', async () => {
    const reg = new StrategyRegistry();
    const types = await reg.loadModule('./default-array.mjs', FIXTURES);
    expect(types.sort()).toEqual(['FixtureArrayOne', 'FixtureArrayTwo']);
    expect(reg.types()).toEqual(['FixtureArrayOne', 'FixtureArrayTwo', 'MeanReversionStrategy', 'SimpleMomentumStrategy']);
  });

  it('rejects a module that exports no strategy with STRATEGY_DEFINITION_INVALID', async () => {
    const reg = new StrategyRegistry();
    const err = await rejected(reg.loadModule('./no-strategy.mjs', FIXTURES));
    expect(err.code).toBe('STRATEGY_DEFINITION_INVALID');
    expect(err.message).toContain('./no-strategy.mjs');
    expect(err.details['module']).toBe('./no-strategy.mjs');
    expect((err.details['exports'] as string[]).sort()).toEqual(['almost', 'answer', 'default', 'schemaOnly', 'untyped']);
    expect(reg.types()).toEqual(['MeanReversionStrategy', 'SimpleMomentumStrategy']);
  });

  it('rejects a path that does not exist with STRATEGY_MODULE_LOAD_FAILED', async () => {
    const reg = new StrategyRegistry();
    const err = await rejected(reg.loadModule('./does-not-exist.mjs', FIXTURES));
    expect(err.code).toBe('STRATEGY_MODULE_LOAD_FAILED');
    expect(err.message).toContain("'./does-not-exist.mjs'");
    expect(err.details['module']).toBe('./does-not-exist.mjs');
    expect(String(err.details['resolved'])).toBe(pathToFileURL(`${FIXTURES}does-not-exist.mjs`).href);
    expect(err.cause).toBeDefined();
  });

  it('rejects an unknown package name with STRATEGY_MODULE_LOAD_FAILED', async () => {
    const reg = new StrategyRegistry();
    const err = await rejected(reg.loadModule('no-such-strategy-package-xyz', FIXTURES));
    expect(err.code).toBe('STRATEGY_MODULE_LOAD_FAILED');
    expect(err.message).toContain('no-such-strategy-package-xyz');
  });

  it('reports a module that throws while being imported as STRATEGY_MODULE_LOAD_FAILED with the cause', async () => {
    const reg = new StrategyRegistry();
    const err = await rejected(reg.loadModule('./throws-on-import.mjs', FIXTURES));
    expect(err.code).toBe('STRATEGY_MODULE_LOAD_FAILED');
    expect(err.message).toContain('fixture exploded during import');
  });

  it('reports a module type that collides with a built-in as STRATEGY_DUPLICATE_TYPE', async () => {
    const reg = new StrategyRegistry();
    const err = await rejected(reg.loadModule('./duplicate-builtin.mjs', FIXTURES));
    expect(err.code).toBe('STRATEGY_DUPLICATE_TYPE');
    expect(err.message).toContain('SimpleMomentumStrategy');
    expect(err.message).toContain("module './duplicate-builtin.mjs'");
    expect(reg.get('SimpleMomentumStrategy')).toBe(SimpleMomentumStrategy);
  });

  it('reports loading the same module twice into one registry as STRATEGY_DUPLICATE_TYPE', async () => {
    const reg = new StrategyRegistry();
    await reg.loadModule('./named-definition.mjs', FIXTURES);
    const err = await rejected(reg.loadModule('./named-definition.mjs', FIXTURES));
    expect(err.code).toBe('STRATEGY_DUPLICATE_TYPE');
  });
});

describe('StrategyRegistry.create', () => {
  it('builds a registry with the built-ins plus every module', async () => {
    const reg = await StrategyRegistry.create(['./named-definition.mjs', './default-array.mjs'], FIXTURES);
    expect(reg.types()).toEqual([
      'FixtureAlwaysBuy',
      'FixtureArrayOne',
      'FixtureArrayTwo',
      'MeanReversionStrategy',
      'SimpleMomentumStrategy',
    ]);
  });

  it('with no modules holds only the built-ins', async () => {
    const reg = await StrategyRegistry.create();
    expect(reg.types()).toEqual(['MeanReversionStrategy', 'SimpleMomentumStrategy']);
  });

  it('fails when one module fails', async () => {
    const err = await rejected(StrategyRegistry.create(['./named-definition.mjs', './no-strategy.mjs'], FIXTURES));
    expect(err.code).toBe('STRATEGY_DEFINITION_INVALID');
  });
});
