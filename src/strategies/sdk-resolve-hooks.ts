/**
 * Module resolution hooks (node:module register()), run on Node's loader
 * thread, never imported directly. A strategy module anywhere on disk may
 * import 'strategy-runner/sdk' (or 'strategy-runner') without strategy-runner
 * in a node_modules beside it: when Node's own resolution finds no such
 * package, the specifier is resolved from strategy-runner's package root
 * instead, through its "exports" (the package referring to itself). A copy
 * that Node does find (installed in the strategies' project) is used as is.
 * Registered by ensureSdkResolvable() (sdk-resolution.ts).
 */
import type { InitializeHook, ResolveHook } from 'node:module';

export interface SdkResolveData {
  /** a file URL inside strategy-runner's package (its package.json) */
  parentURL: string;
}

let self: string | undefined;

export const initialize: InitializeHook<SdkResolveData> = (data) => {
  self = data.parentURL;
};

export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  if (self === undefined || (specifier !== 'strategy-runner' && !specifier.startsWith('strategy-runner/'))) {
    return nextResolve(specifier, context);
  }
  try {
    return await nextResolve(specifier, context);
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    return nextResolve(specifier, { ...context, parentURL: self });
  }
};
