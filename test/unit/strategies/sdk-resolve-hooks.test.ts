import { describe, expect, it } from 'vitest';
import { initialize, resolve } from '../../../src/strategies/sdk-resolve-hooks.js';

type Next = Parameters<typeof resolve>[2];
const SELF = 'file:///opt/strategy-runner/package.json';
const USER = 'file:///home/me/strategies/my-strategies.mjs';

/** A stand-in for Node's resolver: strategy-runner is found from SELF only. */
const calls: { specifier: string; parentURL: string | undefined }[] = [];
const next: Next = async (specifier, context) => {
  calls.push({ specifier, parentURL: context?.parentURL });
  if (specifier.startsWith('strategy-runner') && context?.parentURL !== SELF) {
    throw Object.assign(new Error(`Cannot find package 'strategy-runner' imported from ${context?.parentURL}`), { code: 'ERR_MODULE_NOT_FOUND' });
  }
  if (specifier === 'broken') throw Object.assign(new Error('bad exports'), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
  return { url: `resolved:${specifier}`, shortCircuit: true };
};
const ctx = { conditions: ['node', 'import'], importAssertions: {}, importAttributes: {}, parentURL: USER };

describe('sdk-resolve-hooks', () => {
  initialize({ parentURL: SELF });

  it("resolves 'strategy-runner' and 'strategy-runner/*' from the runner's package when Node finds none beside the module", async () => {
    calls.length = 0;
    expect(await resolve('strategy-runner/sdk', ctx, next)).toEqual({ url: 'resolved:strategy-runner/sdk', shortCircuit: true });
    expect(calls).toEqual([
      { specifier: 'strategy-runner/sdk', parentURL: USER },
      { specifier: 'strategy-runner/sdk', parentURL: SELF },
    ]);
    expect((await resolve('strategy-runner', ctx, next)).url).toBe('resolved:strategy-runner');
  });

  it('leaves every other specifier to Node, errors included', async () => {
    calls.length = 0;
    expect((await resolve('zod', ctx, next)).url).toBe('resolved:zod');
    expect(calls).toEqual([{ specifier: 'zod', parentURL: USER }]);
    await expect(resolve('strategy-runner-extras', { ...ctx }, async (s, c) => next(s, c))).rejects.toMatchObject({ code: 'ERR_MODULE_NOT_FOUND' });
    await expect(resolve('broken', ctx, next)).rejects.toMatchObject({ code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
  });
});
