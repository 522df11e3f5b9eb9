import { readFile } from 'node:fs/promises';
import { parseStrategyConfigs, type ParsedConfigs } from '../../config/strategy-config.js';
import { RunnerError } from '../../errors.js';
import type { ConfigSource } from '../../ports.js';

/**
 * Strategy configurations from a JSON file: an array of configuration objects
 * (the same shape as the `strategy_configurations` rows), or `{ "strategies": [...] }`.
 * An unreadable or unparsable file is an error; a bad entry only skips that entry.
 */
export class FileConfigSource implements ConfigSource {
  readonly name: string;

  constructor(readonly path: string) {
    this.name = path;
  }

  async load(): Promise<ParsedConfigs> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      throw new RunnerError('CONFIG_FILE_UNREADABLE', `cannot read strategies file ${this.path}: ${(err as Error).message}`, { cause: err, details: { path: this.path } });
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new RunnerError('CONFIG_FILE_UNREADABLE', `strategies file ${this.path} is not valid JSON: ${(err as Error).message}`, { cause: err, details: { path: this.path } });
    }
    const entries = Array.isArray(doc)
      ? doc
      : typeof doc === 'object' && doc !== null && Array.isArray((doc as { strategies?: unknown }).strategies)
        ? (doc as { strategies: unknown[] }).strategies
        : undefined;
    if (entries === undefined) {
      throw new RunnerError('CONFIG_FILE_UNREADABLE', `strategies file ${this.path} must hold a JSON array of strategy objects or {"strategies": [...]}`, { details: { path: this.path } });
    }
    return parseStrategyConfigs(entries, this.path);
  }

  async close(): Promise<void> {}
}
