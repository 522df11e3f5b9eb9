import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { SignalSchema } from '../../../src/domain/signal.js';
import { CLI, eventually, serviceConfigInput, testTopics } from '../../helpers/service.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The README's custom-strategy module, exactly as the README shows it. */
function readmeModule(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const m = /```js\n(\/\/ my-strategies\.mjs[\s\S]*?)```/.exec(readme);
  if (m === null) throw new Error('README.md has no ```js block starting with "// my-strategies.mjs"');
  return m[1]!;
}

/** A directory far from the checkout, with the README's module and a configuration naming it. */
function outsideProject(): { dir: string; config: string } {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'sr-user-strategies-')));
  expect(relative(ROOT, dir).startsWith('..')).toBe(true);
  writeFileSync(join(dir, 'my-strategies.mjs'), readmeModule());
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ strategyModules: ['./my-strategies.mjs'], pool: { size: 2 } }));
  return { dir, config: join(dir, 'config.json') };
}

async function cli(args: string[], cwd: string): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], { cwd, maxBuffer: 64 << 20, env: { ...process.env, KAFKA_BROKERS: '', DATABASE_URL: '' } });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

describe("a strategy module outside the checkout that imports 'strategy-runner/sdk' (the README's)", { timeout: 120_000 }, () => {
  it('is listed by `strategies`', async () => {
    const { dir, config } = outsideProject();
    const r = await cli(['strategies', '--config', config], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("Breakout  (module './my-strategies.mjs')");
    expect(r.stdout).toContain("EveryTenth  (module './my-strategies.mjs')");
    expect(r.stdout).toContain('- window: integer, >= 2, default 20');
  });

  it('runs in `replay`, in the worker threads', async () => {
    const { dir, config } = outsideProject();
    writeFileSync(
      join(dir, 'strategies.json'),
      JSON.stringify([
        { id: 'breakout', strategy_type: 'Breakout', instruments: [256265], parameters: { window: 10 } },
        { id: 'tenth', strategy_type: 'EveryTenth', instruments: [260105] },
      ]),
    );
    const r = await cli(['replay', '--config', config, '--ticks', join(ROOT, 'samples/ticks.jsonl'), '--strategies', join(dir, 'strategies.json'), '--log-level', 'warn'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('strategies: 2 running, 0 rejected');
    const signals = r.stdout.trim().split('\n').map((l) => SignalSchema.parse(JSON.parse(l)));
    expect(new Set(signals.map((s) => s.strategy_id))).toEqual(new Set(['breakout', 'tenth']));
  });

  it('starts in `run`, in the worker threads', async () => {
    const { dir } = outsideProject();
    const t = await testTopics();
    writeFileSync(join(dir, 'strategies.json'), JSON.stringify([{ id: 'breakout', strategy_type: 'Breakout', instruments: [256265] }]));
    const input = serviceConfigInput(t, 'postgres://nobody@127.0.0.1:1/none', { strategies: { source: 'file', file: './strategies.json', watch: false } });
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ ...input, strategyModules: ['./my-strategies.mjs'], log: { level: 'info', format: 'json' } }));
    const child = spawn(process.execPath, [CLI, 'run', '--config', join(dir, 'run.json')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KAFKA_BROKERS: '', DATABASE_URL: '' } });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    onTestFinished(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await eventually('running, or an exit', () => out, (o) => o.includes('"msg":"strategy-runner running"') || child.exitCode !== null, 60_000);
    expect(out).toContain('"msg":"strategy-runner running"');
    expect(out).toMatch(/"strategy_id":"breakout","strategy_type":"Breakout".*"msg":"strategy started"/);
    expect(out).toContain('"running":1,"rejected":0');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
