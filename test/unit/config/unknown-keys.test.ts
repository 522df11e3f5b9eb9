import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { closestKey, describeIssues, findUnknownKeys, formatIssueList } from '../../../src/config/unknown-keys.js';

const Params = z.object({
  lookback_period: z.number().int().default(20),
  momentum_threshold: z.number().default(0.01),
  quantity: z.number().default(1),
});

const keysOf = (schema: z.ZodType, input: unknown): string[] => findUnknownKeys(schema, input).map((u) => [...u.path, u.key].join('.'));

describe('closestKey', () => {
  it('suggests the known key one typo away: a missing, extra, changed or swapped letter', () => {
    const known = ['lookback_period', 'momentum_threshold', 'quantity'];
    expect(closestKey('lookbak_period', known)).toBe('lookback_period');
    expect(closestKey('lookbacck_period', known)).toBe('lookback_period');
    expect(closestKey('momentum_treshold', known)).toBe('momentum_threshold');
    expect(closestKey('quantiyt', known)).toBe('quantity');
    expect(closestKey('paramters', ['id', 'strategy_type', 'instruments', 'parameters', 'is_active', 'brokers'])).toBe('parameters');
  });

  it('sees through case and separators (camelCase for snake_case)', () => {
    expect(closestKey('lookbackPeriod', ['lookback_period', 'quantity'])).toBe('lookback_period');
    expect(closestKey('LOOKBACK-PERIOD', ['lookback_period', 'quantity'])).toBe('lookback_period');
  });

  it('suggests nothing when no known key is close', () => {
    expect(closestKey('qty', ['lookback_period', 'quantity'])).toBeUndefined();
    expect(closestKey('x', ['y'])).toBeUndefined();
    expect(closestKey('anything', [])).toBeUndefined();
  });
});

describe('findUnknownKeys', () => {
  it('finds the keys an object schema does not declare, with the closest known key', () => {
    expect(findUnknownKeys(Params, { lookbak_period: 3, quantity: 2 })).toEqual([
      { path: [], key: 'lookbak_period', known: ['lookback_period', 'momentum_threshold', 'quantity'], suggestion: 'lookback_period' },
    ]);
    expect(findUnknownKeys(Params, { lookback_period: 3 })).toEqual([]);
    expect(findUnknownKeys(Params, {})).toEqual([]);
  });

  it('sees through default, prefault, optional, nullable, readonly, catch, refine, lazy and the input side of a pipe or transform', () => {
    const wrapped: z.ZodType[] = [
      Params.default({ lookback_period: 20, momentum_threshold: 0.01, quantity: 1 }),
      Params.prefault({}),
      Params.optional(),
      Params.nullable(),
      Params.readonly(),
      Params.catch({ lookback_period: 20, momentum_threshold: 0.01, quantity: 1 }),
      Params.refine((p) => p.quantity > 0),
      z.lazy(() => Params),
      Params.transform((p) => ({ ...p, doubled: p.quantity * 2 })),
      Params.pipe(z.object({ lookback_period: z.number(), momentum_threshold: z.number(), quantity: z.number() })),
      Params.extend({ extra: z.string().optional() }).strict(),
    ];
    for (const s of wrapped) expect(keysOf(s, { lookbak_period: 3 })).toEqual(['lookbak_period']);
  });

  it('accepts any key where the schema says so: passthrough, loose, catchall, a record, a non-object schema', () => {
    const open: z.ZodType[] = [
      Params.passthrough(),
      Params.loose(),
      Params.catchall(z.number()),
      z.record(z.string(), z.unknown()),
      z.any(),
      z.unknown(),
      z.union([Params, z.object({ other: z.string() })]),
      // preprocess may rename keys before the object sees them
      z.preprocess((v) => v, Params),
    ];
    for (const s of open) expect(keysOf(s, { lookbak_period: 3 })).toEqual([]);
  });

  it('checks nested objects, arrays of objects and record values, with their paths', () => {
    const S = z.object({
      risk: z.object({ max_position: z.number(), stop_loss: z.number().optional() }).default({ max_position: 1 }),
      legs: z.array(z.object({ token: z.number(), ratio: z.number() })).default([]),
      per_instrument: z.record(z.string(), z.object({ weight: z.number() })).optional(),
      free: z.record(z.string(), z.unknown()).optional(),
    });
    const input = {
      risk: { max_positon: 5 },
      legs: [{ token: 1, ratio: 1 }, { token: 2, ration: 2 }],
      per_instrument: { '256265': { wieght: 1 } },
      free: { anything: { goes: true } },
    };
    expect(findUnknownKeys(S, input).map((u) => ({ at: [...u.path, u.key].join('.'), suggestion: u.suggestion }))).toEqual([
      { at: 'risk.max_positon', suggestion: 'max_position' },
      { at: 'legs.1.ration', suggestion: 'ratio' },
      { at: 'per_instrument.256265.wieght', suggestion: 'weight' },
    ]);
  });

  it('an intersection of closed objects knows the keys of both sides; an open side makes it open', () => {
    const A = z.object({ a: z.number() });
    const B = z.object({ b: z.number() });
    expect(keysOf(z.intersection(A, B), { a: 1, b: 2, c: 3 })).toEqual(['c']);
    expect(keysOf(z.intersection(A, B.passthrough()), { a: 1, b: 2, c: 3 })).toEqual([]);
  });

  it('ignores inputs that are not plain objects (the schema reports those)', () => {
    for (const input of [undefined, null, 3, 'x', [1, 2]]) expect(findUnknownKeys(Params, input)).toEqual([]);
  });
});

describe('describeIssues and formatIssueList', () => {
  it('puts the unknown keys first, named with the suggestion, then the schema issues', () => {
    const input = { lookbak_period: 3, quantity: -1 };
    const S = Params.extend({ quantity: z.number().positive() });
    const r = S.safeParse(input);
    const issues = describeIssues(S, input, r.success ? undefined : r.error);
    expect(issues).toEqual([
      { path: '', key: 'lookbak_period', suggestion: 'lookback_period', message: "unknown key 'lookbak_period' (did you mean 'lookback_period'?)" },
      { path: 'quantity', message: 'Too small: expected number to be >0' },
    ]);
    expect(formatIssueList(issues)).toBe("unknown key 'lookbak_period' (did you mean 'lookback_period'?); quantity: Too small: expected number to be >0");
  });

  it("reports a strict schema's unrecognized keys once each, with the suggestion or the known keys", () => {
    const S = z.object({ pool: z.object({ size: z.number().optional(), maxHeapMb: z.number().optional() }).strict().prefault({}) }).strict();
    const input = { pool: { sise: 3, other: 1 } };
    const r = S.safeParse(input);
    expect(r.success).toBe(false);
    const issues = describeIssues(S, input, r.success ? undefined : r.error);
    expect(issues).toEqual([
      { path: 'pool', key: 'sise', suggestion: 'size', message: "unknown key 'sise' (did you mean 'size'?)" },
      { path: 'pool', key: 'other', message: "unknown key 'other' (known keys: size, maxHeapMb)" },
    ]);
    expect(formatIssueList(issues)).toBe("pool: unknown key 'sise' (did you mean 'size'?); pool: unknown key 'other' (known keys: size, maxHeapMb)");
  });

  it('names the root "(root)" for an issue that is not about a key', () => {
    const r = Params.safeParse('x');
    const issues = describeIssues(Params, 'x', r.success ? undefined : r.error);
    expect(formatIssueList(issues)).toMatch(/^\(root\): /);
  });
});
