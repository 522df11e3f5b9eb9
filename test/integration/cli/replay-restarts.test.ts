import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SignalSchema } from '../../../src/domain/signal.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(ROOT, 'dist/src/cli/main.js');
const run = promisify(execFile);

/**
 * 6,000 ticks over three instruments, 100 ms apart; ticks 500-519 of every
 * thousand carry `fail: true` (the Recorder fixture throws on them: 20 in a
 * row, a restart each time).
 */
function ticksFile(dir: string): string {
  const lines: string[] = [];
  let p = 1000;
  for (let i = 0; i < 6000; i++) {
    p = Math.max(1, p * (1 + (((i * 7919) % 13) - 6) / 1000));
    const t: Record<string, unknown> = { instrument_token: [1, 2, 3][i % 3], last_price: Math.round(p * 100) / 100, timestamp: 1_700_000_000_000 + i * 100 };
    if (i % 1000 >= 500 && i % 1000 < 520) t['fail'] = true;
    lines.push(JSON.stringify(t));
  }
  const file = join(dir, 'ticks.jsonl');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

describe('replay with strategies that fail and are restarted', { timeout: 300_000 }, () => {
  it('is byte-identical run after run and whatever the pool and batch size: restarts happen at points of the stream, back-off and quarantine in event time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-replay-restarts-'));
    const ticks = ticksFile(dir);
    writeFileSync(
      join(dir, 'strategies.json'),
      JSON.stringify([
        { id: 'rec', strategy_type: 'Recorder', instruments: [1, 2, 3] },
        { id: 'thr', strategy_type: 'Thrower', instruments: [1, 2], parameters: { every: 1 } },
        { id: 'mr', strategy_type: 'MeanReversionStrategy', instruments: [1, 2, 3], parameters: { lookback_period: 10, deviation_threshold: 1.2 } },
      ]),
    );
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ strategyModules: [join(ROOT, 'test/fixtures/strategies/faulty.mjs')] }));
    const replay = async (extra: string[]): Promise<{ out: string; summary: string[] }> => {
      const { stdout, stderr } = await run(
        process.execPath,
        [CLI, 'replay', '--ticks', ticks, '--strategies', join(dir, 'strategies.json'), '--config', join(dir, 'config.json'), '--log-level', 'error', '--no-progress', ...extra],
        { maxBuffer: 64 << 20 },
      );
      // The per-strategy lines and what follows (the first two lines hold times and the thread count).
      const lines = stderr.trim().split('\n');
      return { out: stdout, summary: lines.slice(lines.findIndex((l) => l.startsWith('replay: ')) + 2) };
    };

    const runs = [[], [], [], ['--pool-size', '1'], ['--pool-size', '2', '--batch-size', '13'], ['--batch-size', '7'], ['--batch-size', '2000']];
    const results = [];
    for (const extra of runs) results.push(await replay(extra));
    const [first] = results;
    for (let i = 1; i < results.length; i++) {
      expect(results[i]!.out, `run ${i} (${runs[i]!.join(' ') || 'defaults'})`).toBe(first!.out);
      expect(results[i]!.summary, `run ${i} (${runs[i]!.join(' ') || 'defaults'})`).toEqual(first!.summary);
    }

    const signals = first!.out.trim().split('\n').map((l) => SignalSchema.parse(JSON.parse(l)));
    // rec came back after each of its six failures and emitted until the end.
    expect(signals.filter((s) => s.strategy_id === 'rec').at(-1)!.tick_timestamp).toBe(1_700_000_000_000 + 5999 * 100);
    expect(first!.summary).toEqual([
      // Per failing stretch: retired at its 10th failing tick in a row (tick 509), back for tick 514 (back-off 500 ms of
      // event time: 4 ticks missed), fails on 514-519 (6 more errors), then emits again.
      expect.stringMatching(/^ {2}rec: \d+ signals, 96 errors, 6 restarts, 24 ticks missed while restarting or quarantined$/),
      // Every tick fails: 10 in a row, restarted 5 times (back-off 0.5, 1, 2, 4, 8 s of event time), then quarantined.
      expect.stringMatching(/^ {2}thr: 0 signals, 60 errors, 5 restarts, \d+ ticks missed while restarting or quarantined \(quarantined\)$/),
      expect.stringMatching(/^ {2}mr: \d+ signals, 0 errors$/),
    ]);
  });
});
