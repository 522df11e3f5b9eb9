import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startRuntime, type Runtime } from '../../../src/app/runtime.js';
import { statusCommand } from '../../../src/cli/commands/status/index.js';
import { fmtInt } from '../../../src/cli/table.js';
import { UsageError } from '../../../src/cli/usage-error.js';
import { parseServiceConfig } from '../../../src/config/service-config.js';
import { parseStrategyConfigs } from '../../../src/config/strategy-config.js';
import { FIXTURES, memoryLogger, runTicks } from '../../helpers/runtime.js';
import { randomWalk } from '../../helpers/ticks.js';

/** Runs statusCommand in this process with stdout and stderr captured. */
async function status(argv: string[], signal?: AbortSignal): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => (out.push(String(c)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => (err.push(String(c)), true));
  try {
    const code = await statusCommand(argv, signal === undefined ? {} : { signal });
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const cells = (line: string): string[] => line.trim().split(/\s{2,}/);

describe('strategy-runner status', () => {
  let rt: Runtime;
  let port: number;

  beforeAll(async () => {
    const config = parseServiceConfig(
      { strategyModules: ['./strategies/faulty.mjs'], status: { port: 0 }, pool: { size: 2, heartbeatIntervalMs: 100 } },
      'test',
      FIXTURES,
    );
    const configs = parseStrategyConfigs(
      [
        { id: 'm1', strategy_type: 'SimpleMomentumStrategy', instruments: [1, 2] },
        { id: 'm2', strategy_type: 'MeanReversionStrategy', instruments: [2] },
        { id: 't', strategy_type: 'Thrower', instruments: [1] },
        { id: 'bad', strategy_type: 'Nope', instruments: [1] },
      ],
      'test',
    );
    rt = await startRuntime({ config, configs, logger: memoryLogger('silent').logger });
    port = rt.statusPort!;
    await runTicks(rt.supervisor, randomWalk([1, 2], 200));
  });

  afterAll(async () => {
    await rt?.close();
  });

  it('prints the status as tables: header, one row per thread and per strategy, rejected strategies', async () => {
    const doc = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as { threads: { thread: number; thread_id: number; ticks_in: number; strategies: { id: string; ticks_in: number; errors: number }[] }[] };
    const r = await status(['--port', String(port)]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^strategy-runner {3}state running {3}uptime \\d+s {3}ready yes {3}pid ${process.pid} {3}http://127\\.0\\.0\\.1:${port}$`));
    expect(r.stdout).toContain('ticks 200');
    expect(r.stdout).toContain('Threads (2)');
    for (const t of doc.threads) {
      const row = lines.find((l) => cells(l)[0] === String(t.thread) && cells(l)[1] === String(t.thread_id));
      expect(row, `thread ${t.thread}`).toBeDefined();
      const c = cells(row!);
      expect(c[2]).toBe('ready');
      expect(c[3]).toBe(String(t.strategies.length));
      expect(c[4]).toBe(fmtInt(t.ticks_in));
      expect(c[9]).toMatch(/^\d+\.\d$/); // heap MB
    }
    expect(r.stdout).toContain('Strategies (3)');
    for (const s of doc.threads.flatMap((t) => t.strategies)) {
      const row = lines.find((l) => cells(l)[0] === s.id);
      expect(row, `strategy ${s.id}`).toBeDefined();
      expect(cells(row!)[4]).toBe(fmtInt(s.ticks_in));
      expect(cells(row!)[6]).toBe(fmtInt(s.errors));
    }
    expect(lines.find((l) => cells(l)[0] === 'm1')).toMatch(/m1\s+SimpleMomentumStrategy\s+\d\s+\S+\s+[\d,]+\s+\d+\s+0\s+[\d.]+\s+[\d.]+\s+flat/);
    expect(r.stdout).toMatch(/t: .*boom/);
    expect(r.stdout).toContain('Rejected strategies (1)');
    expect(lines.find((l) => cells(l)[0] === 'bad')).toMatch(/bad\s+STRATEGY_TYPE_UNKNOWN/);
    expect(r.stdout).not.toContain('Consumer');
  });

  it('prints the raw document with --json, and accepts --url (with or without /status)', async () => {
    const r = await status(['--json', '--port', String(port)]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(doc).toMatchObject({ service: 'strategy-runner', state: 'running', totals: expect.objectContaining({ ticks: 200 }) });
    expect((doc['threads'] as unknown[]).length).toBe(2);
    for (const url of [`http://127.0.0.1:${port}`, `http://127.0.0.1:${port}/status`, `127.0.0.1:${port}/`]) {
      const u = await status(['--url', url]);
      expect(u.code, url).toBe(0);
      expect(u.stdout).toContain(`http://127.0.0.1:${port}`);
      expect(u.stdout).toContain('Strategies (3)');
    }
  });

  it('finds the server from the configuration file (status.host and status.port)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-status-'));
    const file = join(dir, 'service.json');
    writeFileSync(file, JSON.stringify({ status: { host: '0.0.0.0', port } }));
    const r = await status(['--config', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`http://127.0.0.1:${port}`);
    writeFileSync(file, JSON.stringify({ status: { port: 0 } }));
    await expect(status(['--config', file])).rejects.toBeInstanceOf(UsageError);
  });

  it('says which URL it could not reach, exit 1', async () => {
    const dead = await freePort();
    const r = await status(['--port', String(dead)]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`cannot reach http://127.0.0.1:${dead}/status`);
    expect(r.stderr).toContain('ECONNREFUSED');
  });

  it('refreshes with --watch until stopped', async () => {
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 700);
    const r = await status(['--port', String(port), '--watch', '0.2'], stop.signal);
    expect(r.code).toBe(0);
    const frames = r.stdout.split('(Ctrl-C to stop)').length - 1;
    expect(frames).toBeGreaterThanOrEqual(2);
    expect(frames).toBeLessThanOrEqual(6);
    expect(r.stdout.split('Strategies (3)').length - 1).toBe(frames);
  });

  it('rejects bad flags as usage errors', async () => {
    await expect(status(['--watch', '0'])).rejects.toBeInstanceOf(UsageError);
    await expect(status(['--port', 'x'])).rejects.toBeInstanceOf(UsageError);
    await expect(status(['--port', '70000'])).rejects.toBeInstanceOf(UsageError);
    await expect(status(['--url', 'ftp://x', '--json'])).rejects.toBeInstanceOf(UsageError);
    await expect(status(['--url', 'http://a', '--port', '1'])).rejects.toBeInstanceOf(UsageError);
    await expect(status([])).rejects.toThrow(/--url URL or --port N/);
  });
});
