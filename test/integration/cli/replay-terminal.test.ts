import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { randomWalk } from '../../helpers/ticks.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(ROOT, 'dist/src/cli/main.js');
const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));

/** Quote a word for sh. */
const sh = (w: string): string => `'${w.replaceAll("'", `'\\''`)}'`;

/**
 * Run the compiled CLI on a pseudo-terminal, as a person at a terminal does
 * (`script`, from util-linux, allocates it): the progress bar is drawn only
 * when stderr is a terminal. Returns everything the terminal showed.
 */
async function onTerminal(args: string[]): Promise<{ screen: string; code: number }> {
  const command = [process.execPath, CLI, ...args].map(sh).join(' ');
  try {
    const { stdout } = await promisify(execFile)('script', ['-qec', command, '/dev/null'], { cwd: ROOT, maxBuffer: 64 << 20, timeout: 120_000 });
    return { screen: stdout, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; code: number };
    return { screen: e.stdout, code: e.code };
  }
}

describe('strategy-runner replay on a terminal', { timeout: 180_000 }, () => {
  it('script(1) is there to give the test a terminal', () => {
    expect(spawnSync('script', ['--version']).status, 'script(1) from util-linux (Debian: bsdutils) is needed for this test').toBe(0);
  });

  it('draws the progress bar with the same ticks/s as the summary, and no warning, while writing a large --out file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-replay-tty-'));
    const ticks = randomWalk([1, 2, 3, 4], 20_000).map((t) => JSON.stringify(t));
    writeFileSync(join(dir, 'ticks.jsonl'), ticks.join('\n') + '\n');
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ strategyModules: [join(FIXTURES, 'strategies/portfolio-aware.mjs')] }));
    // One signal per tick: about 5 MB of output, the file stream asks to wait for 'drain' again and again.
    writeFileSync(join(dir, 'strategies.json'), JSON.stringify([{ id: 'every', strategy_type: 'EveryNth', instruments: [1, 2, 3, 4], parameters: { n: 1 } }]));
    const out = join(dir, 'out.jsonl');
    const r = await onTerminal([
      'replay', '--config', join(dir, 'config.json'), '--ticks', join(dir, 'ticks.jsonl'), '--strategies', join(dir, 'strategies.json'), '--out', out, '--log-level', 'warn',
    ]);
    expect(r.code, r.screen).toBe(0);
    expect(readFileSync(out, 'utf8').trimEnd().split('\n')).toHaveLength(20_000);

    expect(r.screen).not.toContain('Warning');
    const segments = r.screen.split(/[\r\n]+/);
    const bars = segments.map((s) => /\] +100\.0% +([\d,]+) ticks +([\d,]+) ticks\/s/.exec(s)).filter((m) => m !== null);
    expect(bars.length, r.screen).toBeGreaterThanOrEqual(1);
    const summary = /replay: ([\d,]+) ticks in [\d.]+ s \(([\d,]+) ticks\/s/.exec(r.screen);
    expect(summary, r.screen).not.toBeNull();
    const last = bars.at(-1)!;
    expect(last[1]).toBe('20,000');
    expect(summary![1]).toBe('20,000');
    // The bar's final speed and the summary's: the same ticks over the same interval.
    expect(last[2]).toBe(summary![2]);
  });
});
