import { existsSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { packageRoot } from '../app/package-root.js';
import type { SdkResolveData } from './sdk-resolve-hooks.js';

let registered = false;

/**
 * Before a strategy module is imported: make sure its `import ... from
 * 'strategy-runner/sdk'` resolves, wherever the module lies. Node finds the
 * package only in a node_modules above the module (or inside this package);
 * elsewhere this registers resolve hooks (sdk-resolve-hooks.ts) that resolve
 * 'strategy-runner' and 'strategy-runner/*' from this package, once per
 * thread: a worker thread in Node 20 does not inherit the main thread's
 * hooks, and the registry calls this in each thread before it imports the
 * user modules. Only when needed: the hooks run on a loader thread of their
 * own, one per thread that registers them (about 0.1 s of start-up each).
 */
export function ensureSdkResolvable(moduleUrl: string): void {
  if (registered || !moduleUrl.startsWith('file:')) return;
  if (resolvesFrom(fileURLToPath(moduleUrl), 'strategy-runner/sdk')) return;
  const data: SdkResolveData = { parentURL: pathToFileURL(join(packageRoot(), 'package.json')).href };
  register(hooksUrl(), { data });
  registered = true;
}

/** Whether Node's own resolution finds `specifier` from `file` (CommonJS rules, the same "exports" map). */
function resolvesFrom(file: string, specifier: string): boolean {
  try {
    createRequire(file).resolve(specifier);
    return true;
  } catch {
    return false;
  }
}

/** The compiled hooks module: beside this file in dist/, or dist/ of the package when running from src/ (tests). */
function hooksUrl(): string {
  const beside = new URL('./sdk-resolve-hooks.js', import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside.href;
  return pathToFileURL(join(packageRoot(), 'dist/src/strategies/sdk-resolve-hooks.js')).href;
}
