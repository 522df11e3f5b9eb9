import { spawn } from 'node:child_process';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { FIXTURES } from '../../helpers/runtime.js';
import { CLI, eventually, serviceConfigInput, testTopics } from '../../helpers/service.js';

describe('strategy-runner run with a strategies file', { timeout: 120_000 }, () => {
  it('reloads the file once per SIGHUP', async () => {
    const t = await testTopics();
    const dir = mkdtempSync(join(tmpdir(), 'sr-sighup-'));
    const file = join(dir, 'strategies.json');
    const write = (ids: string[]): void => {
      writeFileSync(`${file}.tmp`, JSON.stringify(ids.map((id) => ({ id, strategy_type: 'EveryNth', instruments: [1], parameters: { n: 1 } }))));
      renameSync(`${file}.tmp`, file);
    };
    write(['a']);
    const input = serviceConfigInput(t, 'postgres://nobody@127.0.0.1:1/none', { strategies: { source: 'file', file } });
    const cfg = join(dir, 'config.json');
    writeFileSync(cfg, JSON.stringify({ ...input, strategyModules: (input.strategyModules ?? []).map((m) => join(FIXTURES, m)), log: { level: 'info', format: 'json' } }));

    const child = spawn(process.execPath, [CLI, 'run', '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KAFKA_BROKERS: '', DATABASE_URL: '' } });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    onTestFinished(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    });
    const records: Record<string, unknown>[] = [];
    let partial = '';
    child.stdout!.on('data', (d: Buffer) => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop()!;
      for (const l of lines) if (l.startsWith('{')) records.push(JSON.parse(l) as Record<string, unknown>);
    });
    const reloads = (reason: string): Record<string, unknown>[] => records.filter((r) => r['msg'] === 'strategies file reloaded' && r['reason'] === reason);

    await eventually('running', () => records.some((r) => r['msg'] === 'strategy-runner running'), (ok) => ok, 60_000);
    // The watcher is installed right after "running"; its start is logged.
    await eventually('watching', () => records.some((r) => r['msg'] === 'watching the strategies file for changes'), (ok) => ok, 30_000);

    child.kill('SIGHUP');
    await eventually('the SIGHUP reload', () => reloads('sighup').length, (n) => n >= 1, 30_000);
    // A change of the file after it: reloads run one at a time in order, so a
    // second reload for the same SIGHUP would have run before this one.
    write(['a', 'b']);
    await eventually('the file-change reload', () => reloads('file-change').length, (n) => n >= 1, 30_000);
    expect(reloads('sighup')).toHaveLength(1);
    expect(reloads('file-change')).toHaveLength(1);
    expect(reloads('file-change')[0]).toMatchObject({ configs: 2, errors: 0 });

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
