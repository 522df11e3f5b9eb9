import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RunnerError } from '../errors.js';

/**
 * Path of the compiled thread entry, as piscina loads it: the CommonJS door
 * (dist/workers/strategy-thread-door.cjs) to the ES module entry
 * (strategy-thread.js). Threads always load compiled JavaScript, never TypeScript, also under vitest:
 * the test set-up builds first. From dist/src/supervision/ the entry is
 * ../../workers/; from src/supervision/ (tests run on sources) it is
 * ../../dist/workers/.
 */
export function resolveWorkerEntry(): string {
  const candidates = [
    new URL('../../workers/strategy-thread-door.cjs', import.meta.url),
    new URL('../../dist/workers/strategy-thread-door.cjs', import.meta.url),
  ].map((u) => fileURLToPath(u));
  for (const c of candidates) if (existsSync(c)) return c;
  throw new RunnerError('WORKER_ENTRY_MISSING', `compiled worker entry not found (looked at ${candidates.join(', ')}); run \`npm run build\``, {
    details: { candidates },
  });
}
