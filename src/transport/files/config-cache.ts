import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ParsedConfigs } from '../../config/strategy-config.js';

/**
 * The last configurations read from the database, kept as a strategies file
 * (the same format FileConfigSource reads), written atomically (temp file +
 * rename) so that a crash never leaves half a file.
 */
export function writeConfigCache(path: string, parsed: ParsedConfigs): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ written_at: new Date().toISOString(), strategies: parsed.configs }, null, 2));
  renameSync(tmp, path);
}
