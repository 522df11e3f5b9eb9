import { describe, it, expect } from 'vitest';
import { BROKER_NAME, StrategyConfigSchema, parseStrategyConfigs } from '../../../src/config/strategy-config.js';
import { RunnerError } from '../../../src/errors.js';

const SRC = 'strategies.json';

const good = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  strategy_type: 'SimpleMomentumStrategy',
  instruments: [256265],
  ...extra,
});

describe('parseStrategyConfigs: valid entries', () => {
  it('applies defaults: is_active true, brokers [paper], parameters {}', () => {
    const { configs, errors } = parseStrategyConfigs([good('a')], SRC);
    expect(errors).toEqual([]);
    expect(configs).toEqual([
      { id: 'a', strategy_type: 'SimpleMomentumStrategy', instruments: [256265], parameters: {}, is_active: true, brokers: ['paper'] },
    ]);
  });

  it('keeps explicit values, including inactive configurations', () => {
    const entry = good('b', {
      instruments: [1, 2, 3],
      parameters: { lookback_period: 5, nested: { x: 1 } },
      is_active: false,
      brokers: ['zerodha', 'paper_2', 'alpha-1'],
    });
    const { configs, errors } = parseStrategyConfigs([entry], SRC);
    expect(errors).toEqual([]);
    expect(configs).toEqual([entry]);
  });

  it('keeps source order', () => {
    const { configs } = parseStrategyConfigs([good('z'), good('a'), good('m')], SRC);
    expect(configs.map((c) => c.id)).toEqual(['z', 'a', 'm']);
  });

  it('returns nothing for an empty list', () => {
    expect(parseStrategyConfigs([], SRC)).toEqual({ configs: [], errors: [] });
  });
});

describe('parseStrategyConfigs: invalid entries', () => {
  it('reports a bad entry with its id, index and source, and keeps the others', () => {
    const { configs, errors } = parseStrategyConfigs([good('ok-1'), good('bad', { instruments: 'NIFTY' }), good('ok-2')], SRC);
    expect(configs.map((c) => c.id)).toEqual(['ok-1', 'ok-2']);
    expect(errors).toHaveLength(1);
    const e = errors[0]!;
    expect(e).toBeInstanceOf(RunnerError);
    expect(e.code).toBe('STRATEGY_CONFIG_INVALID');
    expect(e.message).toContain("strategy 'bad'");
    expect(e.message).toContain(`${SRC} entry #1`);
    expect(e.message).toContain('instruments');
    expect(e.details).toMatchObject({ strategy_id: 'bad', source: SRC, index: 1 });
  });

  it('identifies an entry without an id by its position', () => {
    const { configs, errors } = parseStrategyConfigs([good('x'), good('y'), { strategy_type: 'T', instruments: [1] }], SRC);
    expect(configs).toHaveLength(2);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe('STRATEGY_CONFIG_INVALID');
    expect(errors[0]!.message).toMatch(new RegExp(`^${SRC} entry #2: `));
    expect(errors[0]!.message).toContain('id');
    expect(errors[0]!.details['strategy_id']).toBeUndefined();
    expect(errors[0]!.details['index']).toBe(2);
  });

  it.each([null, 'a string', 42, [good('in-array')]])('rejects a non-object entry %j', (entry) => {
    const { configs, errors } = parseStrategyConfigs([entry, good('fine')], SRC);
    expect(configs.map((c) => c.id)).toEqual(['fine']);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe('STRATEGY_CONFIG_INVALID');
    expect(errors[0]!.message).toContain(`${SRC} entry #0`);
  });

  it('rejects empty instruments with a message saying one is required', () => {
    const { configs, errors } = parseStrategyConfigs([good('e', { instruments: [] })], SRC);
    expect(configs).toEqual([]);
    expect(errors[0]!.code).toBe('STRATEGY_CONFIG_INVALID');
    expect(errors[0]!.message).toContain('instruments');
    expect(errors[0]!.message).toContain('at least one instrument token is required');
  });

  it.each([
    ['a non-integer token', [1.5]],
    ['a negative token', [-1]],
    ['a string token', ['256265']],
  ])('rejects instruments with %s', (_n, instruments) => {
    const { errors } = parseStrategyConfigs([good('i', { instruments })], SRC);
    expect(errors[0]!.code).toBe('STRATEGY_CONFIG_INVALID');
    expect(errors[0]!.message).toContain('instruments.0');
  });

  it.each([
    ['a dot', 'zerodha.live'],
    ['a space', 'paper trading'],
    ['a slash', 'a/b'],
    ['an empty name', ''],
  ])('rejects a broker name with %s', (_n, broker) => {
    const { configs, errors } = parseStrategyConfigs([good('br', { brokers: ['paper', broker] })], SRC);
    expect(configs).toEqual([]);
    expect(errors[0]!.code).toBe('STRATEGY_CONFIG_INVALID');
    expect(errors[0]!.message).toContain('brokers.1');
    expect(errors[0]!.message).toContain('broker names may hold only letters, digits, _ and -');
  });

  it('rejects an empty broker list', () => {
    const { errors } = parseStrategyConfigs([good('nb', { brokers: [] })], SRC);
    expect(errors[0]!.code).toBe('STRATEGY_CONFIG_INVALID');
    expect(errors[0]!.message).toContain('brokers');
  });

  it.each([
    ['an empty id', { id: '' }, 'id'],
    ['a too long id', { id: 'x'.repeat(201) }, 'id'],
    ['an empty strategy_type', { strategy_type: '' }, 'strategy_type'],
    ['a missing strategy_type', { strategy_type: undefined }, 'strategy_type'],
    ['parameters that are an array', { parameters: [1, 2] }, 'parameters'],
    ['parameters that are a string', { parameters: 'lookback=5' }, 'parameters'],
    ['a non-boolean is_active', { is_active: 'yes' }, 'is_active'],
  ])('rejects %s', (_n, over, field) => {
    const { errors } = parseStrategyConfigs([{ ...good('f'), ...over }], SRC);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe('STRATEGY_CONFIG_INVALID');
    const paths = (errors[0]!.details['issues'] as { path: string }[]).map((i) => i.path);
    expect(paths).toContain(field);
  });

  it('rejects a misspelled key with STRATEGY_CONFIG_INVALID naming the strategy, the key and the key it resembles', () => {
    const { configs, errors } = parseStrategyConfigs([good('typo', { paramters: { lookback_period: 3 } }), good('fine')], SRC);
    expect(configs.map((c) => c.id)).toEqual(['fine']);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe('STRATEGY_CONFIG_INVALID');
    expect(errors[0]!.message).toBe(`strategy 'typo' (${SRC} entry #0): unknown key 'paramters' (did you mean 'parameters'?)`);
    expect(errors[0]!.details['issues']).toEqual([expect.objectContaining({ path: '', key: 'paramters', suggestion: 'parameters' })]);
  });

  it('rejects an unknown key that resembles none, listing the known keys', () => {
    const { errors } = parseStrategyConfigs([good('u', { owner: 'desk-3' })], SRC);
    expect(errors[0]!.code).toBe('STRATEGY_CONFIG_INVALID');
    expect(errors[0]!.message).toContain("unknown key 'owner' (known keys: id, strategy_type, instruments, parameters, is_active, brokers");
  });

  it('accepts an id of exactly 200 characters', () => {
    expect(parseStrategyConfigs([good('x'.repeat(200))], SRC).errors).toEqual([]);
  });

  it('reports one error per bad entry', () => {
    const { configs, errors } = parseStrategyConfigs([good('a', { instruments: [] }), good('b', { brokers: ['x y'] }), good('c')], SRC);
    expect(configs.map((c) => c.id)).toEqual(['c']);
    expect(errors.map((e) => e.details['index'])).toEqual([0, 1]);
  });
});

describe('parseStrategyConfigs: duplicate ids', () => {
  it('keeps the first and rejects later ones with STRATEGY_DUPLICATE_ID', () => {
    const first = good('dup', { instruments: [1] });
    const second = good('dup', { instruments: [2] });
    const { configs, errors } = parseStrategyConfigs([first, good('other'), second], SRC);
    expect(configs.map((c) => [c.id, c.instruments])).toEqual([['dup', [1]], ['other', [256265]]]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe('STRATEGY_DUPLICATE_ID');
    expect(errors[0]!.message).toContain("'dup'");
    expect(errors[0]!.message).toContain(`${SRC} entry #2`);
    expect(errors[0]!.details).toEqual({ strategy_id: 'dup', source: SRC, index: 2 });
  });

  it('counts an inactive configuration as using its id', () => {
    const { configs, errors } = parseStrategyConfigs([good('d', { is_active: false }), good('d')], SRC);
    expect(configs).toHaveLength(1);
    expect(configs[0]!.is_active).toBe(false);
    expect(errors[0]!.code).toBe('STRATEGY_DUPLICATE_ID');
  });

  it('does not let an invalid entry reserve an id', () => {
    const { configs, errors } = parseStrategyConfigs([good('d', { instruments: [] }), good('d')], SRC);
    expect(configs.map((c) => c.id)).toEqual(['d']);
    expect(errors.map((e) => e.code)).toEqual(['STRATEGY_CONFIG_INVALID']);
  });
});

describe('BROKER_NAME and StrategyConfigSchema', () => {
  it('accepts letters, digits, underscore and dash only', () => {
    for (const ok of ['paper', 'Zerodha_2', 'a-b', '9']) expect(BROKER_NAME.test(ok)).toBe(true);
    for (const bad of ['a.b', 'a b', 'a:b', 'ä', '']) expect(BROKER_NAME.test(bad)).toBe(false);
  });

  it('is the schema parseStrategyConfigs applies', () => {
    expect(StrategyConfigSchema.parse(good('s'))).toEqual(parseStrategyConfigs([good('s')], SRC).configs[0]);
  });
});
