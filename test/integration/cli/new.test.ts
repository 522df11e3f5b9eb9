import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { SignalSchema, type Signal } from '../../../src/domain/signal.js';
import { useTempDir } from '../../helpers/temp-dir.js';

const ROOT = realpathSync(fileURLToPath(new URL('../../../', import.meta.url)));
const CLI = join(ROOT, 'dist/src/cli/main.js');
const VITEST = join(ROOT, 'node_modules/vitest/vitest.mjs');
const STYLES = ['define', 'class'] as const;

/**
 * A child process with this package's node. Outside any vitest of ours: the
 * VITEST* variables would tell a nested vitest it is a worker.
 */
async function node(args: string[], cwd: string): Promise<{ stdout: string; stderr: string; code: number }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'NODE_OPTIONS'));
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, args, { cwd, maxBuffer: 64 << 20, env: { ...env, KAFKA_BROKERS: '', DATABASE_URL: '', NO_COLOR: '1' } });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

/** The arguments of the `strategy-runner …` line of `new`'s summary that starts with `command` (its paths need no quoting here). */
function printed(summary: string, command: string): string[] {
  const line = summary.split('\n').find((l) => l.startsWith(`  strategy-runner ${command} `));
  if (line === undefined) throw new Error(`no 'strategy-runner ${command}' line in:\n${summary}`);
  return line.trim().split(/ +/).slice(1);
}

const parseSignals = (text: string): Signal[] => text.split('\n').filter(Boolean).map((l) => SignalSchema.parse(JSON.parse(l)));

describe('strategy-runner new, then what it tells you to run', { timeout: 120_000 }, () => {
  const tmp = useTempDir('sr-new-');
  /** per style: where `new` ran, what it printed, and the directory it wrote */
  const made = {} as Record<(typeof STYLES)[number], { cwd: string; summary: string; dir: string }>;

  beforeAll(async () => {
    for (const style of STYLES) {
      // far from the checkout: no node_modules above it, as a user's own directory
      const cwd = join(realpathSync(tmp.dir()), style);
      expect(relative(ROOT, cwd).startsWith('..')).toBe(true);
      mkdirSync(cwd);
      const r = await node([CLI, 'new', 'MaCross', '--style', style], cwd);
      expect(r.code, r.stderr).toBe(0);
      made[style] = { cwd, summary: r.stdout, dir: join(cwd, 'ma-cross') };
    }
  });

  it('writes the five files into ./ma-cross and says so', () => {
    for (const style of STYLES) {
      const { summary, dir } = made[style];
      expect(summary).toContain(`wrote MaCross (${style} style) in ma-cross:`);
      for (const f of ['ma-cross.mjs', 'ma-cross.test.mjs', 'strategies.json', 'runner.json', 'README.md']) {
        expect(existsSync(join(dir, f)), f).toBe(true);
        expect(summary).toContain(`ma-cross/${f}`);
      }
    }
  });

  it("its replay command runs the module in the strategy threads: exit 0, valid signals of its 1-minute bars, BUYs only (a replay has no fills), the same from both styles", async () => {
    const outputs: string[] = [];
    for (const style of STYLES) {
      const { cwd, summary } = made[style];
      const args = printed(summary, 'replay');
      expect(args).toEqual(['replay', '--ticks', join(ROOT, 'samples/ticks.jsonl'), '--strategies', 'ma-cross/strategies.json', '--config', 'ma-cross/runner.json']);
      const r = await node([CLI, ...args, '--log-level', 'warn'], cwd);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('strategies: 1 running, 0 rejected');
      expect(r.stderr).toMatch(/MaCross_1: [1-9]\d* signals, 0 errors/);
      const signals = parseSignals(r.stdout);
      expect(signals.length).toBeGreaterThan(0);
      for (const s of signals) {
        expect(s).toMatchObject({ strategy_id: 'MaCross_1', strategy_type: 'MaCross', side: 'BUY', quantity: 1, broker: 'paper', origin: 'bar 1m' });
        expect([256265, 260105]).toContain(s.instrument_token);
        expect(s.tick_timestamp % 60_000, 'stamped with the end of a 1-minute bar').toBe(0);
        expect(s.reason).toMatch(/^cross up: fast \d+\.\d\d above slow \d+\.\d\d$/);
      }
      outputs.push(r.stdout);
    }
    expect(outputs[1]).toBe(outputs[0]);
  });

  it('its backtest command feeds simulated fills back: the strategy SELLs what it bought', async () => {
    for (const style of STYLES) {
      const { cwd, summary, dir } = made[style];
      const args = printed(summary, 'backtest');
      expect(args.slice(-2)).toEqual(['--out', 'ma-cross/report/']);
      const r = await node([CLI, ...args, '--log-level', 'warn'], cwd);
      expect(r.code, r.stderr).toBe(0);
      const signals = parseSignals(readFileSync(join(dir, 'report/signals.jsonl'), 'utf8'));
      const sells = signals.filter((s) => s.side === 'SELL');
      expect(sells.length, style).toBeGreaterThan(0);
      // each SELL closes a position a BUY of the same instrument opened before it
      for (const sell of sells) {
        expect(signals.some((b) => b.side === 'BUY' && b.instrument_token === sell.instrument_token && b.tick_timestamp < sell.tick_timestamp)).toBe(true);
      }
      const report = JSON.parse(readFileSync(join(dir, 'report/report.json'), 'utf8')) as Record<string, unknown>;
      expect(JSON.stringify(report)).toContain('MaCross_1');
    }
  });

  it('its test passes under vitest with strategy-runner installed beside it (linked, as npm install of the checkout does), and fails on a broken strategy', async () => {
    for (const style of STYLES) {
      const { dir } = made[style];
      // `npm install --save-dev vitest <checkout>`, without the network: both linked
      mkdirSync(join(dir, 'node_modules'));
      symlinkSync(ROOT, join(dir, 'node_modules', 'strategy-runner'), 'dir');
      symlinkSync(join(ROOT, 'node_modules', 'vitest'), join(dir, 'node_modules', 'vitest'), 'dir');

      const ok = await node([VITEST, 'run'], dir);
      expect(ok.code, ok.stdout + ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/Tests\s+5 passed \(5\)/);

      // A SELL on every cross down, position or not: the test must see it.
      const module = join(dir, 'ma-cross.mjs');
      const source = readFileSync(module, 'utf8');
      expect(source).toContain("side === 'down' && position > 0");
      writeFileSync(module, source.replace("side === 'down' && position > 0", "side === 'down'"));
      const broken = await node([VITEST, 'run'], dir);
      expect(broken.code, style).toBe(1);
      expect(broken.stdout).toMatch(/Tests\s+\d+ failed/);
      writeFileSync(module, source);
    }
  });
});
