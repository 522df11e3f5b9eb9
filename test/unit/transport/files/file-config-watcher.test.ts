import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { ParsedConfigs } from '../../../../src/config/strategy-config.js';
import { FileConfigWatcher, type FileReloadReason } from '../../../../src/transport/files/file-config-watcher.js';
import { memoryLogger } from '../../../helpers/runtime.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'file-config-watcher-'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

const strategy = (id: string, lookback = 5): Record<string, unknown> => ({
  id,
  strategy_type: 'SimpleMomentumStrategy',
  instruments: [256265],
  parameters: { lookback_period: lookback },
});

interface Call {
  parsed: ParsedConfigs;
  reason: FileReloadReason;
}

/** A watcher on a fresh file in its own directory; stopped when the test ends. */
async function setup(initial: unknown[] = [strategy('a')], debounceMs = 50) {
  const dir = mkdtempSync(join(root, 'd-'));
  const path = join(dir, 'strategies.json');
  writeFileSync(path, JSON.stringify(initial));
  const calls: Call[] = [];
  const { logger, lines } = memoryLogger('debug');
  const watcher = new FileConfigWatcher(path, (parsed, reason) => void calls.push({ parsed, reason }), { logger, debounceMs });
  onTestFinished(() => watcher.stop());
  await watcher.start();
  return { dir, path, calls, lines, watcher };
}

async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const ids = (c: Call | undefined): string[] => c?.parsed.configs.map((x) => x.id) ?? [];

describe('FileConfigWatcher', () => {
  it('moves through its lifecycle: watching once started, stopped after stop(), and cannot start again', async () => {
    const { watcher } = await setup();
    expect(watcher.state).toBe('watching');
    await watcher.stop();
    expect(watcher.state).toBe('stopped');
    await watcher.stop();
    await expect(watcher.start()).rejects.toThrow(/after stop/);
  });

  it('reloads when the file is rewritten in place', async () => {
    const { path, calls, watcher } = await setup();
    writeFileSync(path, JSON.stringify([strategy('a'), strategy('b')]));
    await until('a reload', () => calls.length >= 1);
    expect(calls[0]!.reason).toBe('file-change');
    expect(ids(calls[0])).toEqual(['a', 'b']);
    expect(watcher.stats).toMatchObject({ reloads: 1, failures: 0, watching: true, lastReloadReason: 'file-change' });

    writeFileSync(path, JSON.stringify([strategy('a', 9)]));
    await until('a second reload', () => calls.length >= 2);
    expect(calls[1]!.parsed.configs[0]!.parameters).toEqual({ lookback_period: 9 });
  });

  it('debounces a burst of writes into one reload', async () => {
    const { path, calls } = await setup([strategy('a')], 150);
    for (let i = 0; i < 10; i++) {
      writeFileSync(path, JSON.stringify([strategy('a', i + 10)]));
      await sleep(10);
    }
    await until('a reload', () => calls.length >= 1);
    await sleep(400);
    // one reload (two if the machine stalled longer than the debounce mid-burst), ending on the last content
    expect(calls.length).toBeLessThanOrEqual(2);
    expect(calls.at(-1)!.parsed.configs[0]!.parameters).toEqual({ lookback_period: 19 });
  });

  it('ignores a change event when the content is unchanged', async () => {
    const { path, calls, watcher } = await setup();
    writeFileSync(path, JSON.stringify([strategy('a')])); // same bytes as at start()
    await until('the event to be handled', () => watcher.stats.unchanged >= 1);
    expect(calls).toEqual([]);
  });

  it('keeps the last configuration on invalid JSON: logged, no callback; recovers on the next good write', async () => {
    const { path, calls, lines, watcher } = await setup();
    writeFileSync(path, '[{"id": "a", ');
    await until('the failure', () => watcher.stats.failures >= 1);
    await sleep(150);
    expect(calls).toEqual([]);
    expect(watcher.stats.lastError).toMatchObject({ code: 'CONFIG_FILE_UNREADABLE', reason: 'file-change' });
    expect(lines.some((l) => l['level'] === 40 && String(l['msg']).includes('keeping the last configuration'))).toBe(true);

    writeFileSync(path, JSON.stringify([strategy('c')]));
    await until('a reload', () => calls.length >= 1);
    expect(ids(calls[0])).toEqual(['c']);
  });

  it('keeps the last configuration on a file of the wrong shape', async () => {
    const { path, calls, watcher } = await setup();
    writeFileSync(path, JSON.stringify({ nope: true }));
    await until('the failure', () => watcher.stats.failures >= 1);
    expect(calls).toEqual([]);
  });

  it('passes on a file with some bad entries, with their errors', async () => {
    const { path, calls } = await setup();
    writeFileSync(path, JSON.stringify([strategy('a'), { id: 'bad' }]));
    await until('a reload', () => calls.length >= 1);
    expect(ids(calls[0])).toEqual(['a']);
    expect(calls[0]!.parsed.errors.map((e) => e.code)).toEqual(['STRATEGY_CONFIG_INVALID']);
  });

  it('reloads on SIGHUP, even when the content is unchanged', async () => {
    const { calls } = await setup([strategy('a'), strategy('z')]);
    process.emit('SIGHUP', 'SIGHUP');
    await until('a reload', () => calls.length >= 1);
    expect(calls[0]!.reason).toBe('sighup');
    expect(ids(calls[0])).toEqual(['a', 'z']);
  });

  it('reloads when another file is renamed over it (editor / atomic replace)', async () => {
    const { dir, path, calls } = await setup();
    const tmp = join(dir, '.strategies.json.tmp');
    writeFileSync(tmp, JSON.stringify([strategy('r')]));
    renameSync(tmp, path);
    await until('a reload', () => calls.length >= 1);
    expect(calls.map((c) => c.reason)).toEqual(['file-change']);
    expect(ids(calls[0])).toEqual(['r']);

    // the watch survives the replacement: a second replace is seen too
    writeFileSync(tmp, JSON.stringify([strategy('s')]));
    renameSync(tmp, path);
    await until('a second reload', () => calls.length >= 2);
    expect(ids(calls[1])).toEqual(['s']);
  });

  it('ignores other files in the directory', async () => {
    const { dir, calls, watcher } = await setup();
    writeFileSync(join(dir, 'other.json'), JSON.stringify([strategy('x')]));
    await sleep(300);
    expect(calls).toEqual([]);
    expect(watcher.stats.unchanged).toBe(0);
  });

  it('logs a deleted file and reloads when it comes back', async () => {
    const { path, calls, watcher } = await setup();
    rmSync(path);
    await until('the failure', () => watcher.stats.failures >= 1);
    expect(calls).toEqual([]);
    writeFileSync(path, JSON.stringify([strategy('back')]));
    await until('a reload', () => calls.length >= 1);
    expect(ids(calls[0])).toEqual(['back']);
  });

  it('stop() removes the SIGHUP listener and closes the watcher (idempotent)', async () => {
    const before = process.listenerCount('SIGHUP');
    const { path, calls, watcher } = await setup();
    expect(process.listenerCount('SIGHUP')).toBe(before + 1);
    await watcher.stop();
    await watcher.stop();
    expect(process.listenerCount('SIGHUP')).toBe(before);
    expect(watcher.stats.watching).toBe(false);
    writeFileSync(path, JSON.stringify([strategy('late')]));
    watcher.requestReload('sighup');
    await sleep(200);
    expect(calls).toEqual([]);
  });

  it('with signal: null listens for no signal (its owner calls requestReload), and still reloads on request', async () => {
    const dir = mkdtempSync(join(root, 'd-'));
    const path = join(dir, 'strategies.json');
    writeFileSync(path, JSON.stringify([strategy('a')]));
    const calls: FileReloadReason[] = [];
    const before = process.listenerCount('SIGHUP');
    const watcher = new FileConfigWatcher(path, (_parsed, reason) => void calls.push(reason), { logger: memoryLogger('silent').logger, signal: null });
    onTestFinished(() => watcher.stop());
    await watcher.start();
    expect(process.listenerCount('SIGHUP')).toBe(before);
    watcher.requestReload('sighup');
    await until('a reload', () => calls.length >= 1);
    expect(calls).toEqual(['sighup']);
    await watcher.stop();
    expect(process.listenerCount('SIGHUP')).toBe(before);
  });

  it('runs one reload at a time and coalesces requests made meanwhile into one', async () => {
    const dir = mkdtempSync(join(root, 'd-'));
    const path = join(dir, 'strategies.json');
    writeFileSync(path, JSON.stringify([strategy('a')]));
    let active = 0;
    let maxActive = 0;
    let calls = 0;
    const watcher = new FileConfigWatcher(
      path,
      async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        calls++;
        await sleep(100);
        active--;
      },
      { logger: memoryLogger('silent').logger },
    );
    onTestFinished(() => watcher.stop());
    await watcher.start();
    for (let i = 0; i < 5; i++) watcher.requestReload('sighup');
    await until('two reloads', () => calls >= 2);
    await sleep(250);
    expect(calls).toBe(2);
    expect(maxActive).toBe(1);
  });
});
