import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../../helpers/cli.js';
import { StrategyRegistry } from '../../../src/strategies/registry.js';
import { runStrategy } from '../../../src/testing/index.js';

const FIXTURE = join(ROOT, 'test/fixtures/strategies/kit.mjs');

async function cli(args: string[]): Promise<void> {
  const r = await runCli([...args, '--log-level', 'warn']);
  if (r.code !== 0) throw new Error(`strategy-runner ${args[0]} exited ${r.code}: ${r.stderr.slice(-2000)}`);
}

/** 3,000 ticks over three instruments, 250 ms apart, with volume. */
function ticks(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  let p = 1000;
  for (let i = 0; i < 3000; i++) {
    p = Math.max(1, p * (1 + (((i * 7919) % 13) - 6) / 1000));
    out.push({ instrument_token: [11, 12, 13][i % 3], last_price: Math.round(p * 100) / 100, timestamp: 1_700_000_000_000 + i * 250, volume: (i * 31) % 97 });
  }
  return out;
}

const lines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter(Boolean);

describe('the author kit in strategy threads', { timeout: 180_000 }, () => {
  it('bars, timers and rich intents give the same signals in replay, in backtest and in runStrategy; backtest fills too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-kit-'));
    const t = ticks();
    writeFileSync(join(dir, 'ticks.jsonl'), t.map((x) => JSON.stringify(x)).join('\n') + '\n');
    const configs = [
      { id: 'kit-a', strategy_type: 'KitProbe', instruments: [11, 12], parameters: { quantity: 3 } },
      { id: 'kit-b', strategy_type: 'KitProbe', instruments: [13], parameters: {}, brokers: ['paper', 'zerodha'] },
    ];
    writeFileSync(join(dir, 'strategies.json'), JSON.stringify(configs));
    writeFileSync(join(dir, 'runner.json'), JSON.stringify({ strategyModules: [FIXTURE], portfolio: { initialCash: 10_000 } }));
    const common = ['--ticks', join(dir, 'ticks.jsonl'), '--strategies', join(dir, 'strategies.json'), '--config', join(dir, 'runner.json')];
    await cli(['replay', ...common, '--out', join(dir, 'replay.jsonl'), '--quiet', '--batch-size', '64']);
    await cli(['backtest', ...common, '--out', join(dir, 'bt'), '--quiet', '--fee-bps', '1', '--slippage-bps', '2', '--pool-size', '1']);

    const registry = await StrategyRegistry.create([FIXTURE]);
    const def = registry.get('KitProbe')!;
    const replayed = lines(join(dir, 'replay.jsonl'));
    const backtested = lines(join(dir, 'bt', 'signals.jsonl'));
    const fills = lines(join(dir, 'bt', 'fills.jsonl'));
    expect(replayed.some((l) => l.includes('"origin":"bar 2s"'))).toBe(true);
    expect(replayed.some((l) => l.includes('"origin":"timer rebalance"'))).toBe(true);
    expect(replayed.some((l) => l.includes('"order_type":"LIMIT"'))).toBe(true);
    expect(fills.length).toBeGreaterThan(10);
    // Fills reach the portfolio: the backtest's signals differ from replay's (position-aware decisions).
    expect(backtested).not.toEqual(replayed);
    for (const c of configs) {
      const base = { id: c.id, params: c.parameters, instruments: c.instruments, brokers: c.brokers ?? ['paper'], ticks: t, initialCash: 10_000 };
      const mine = (l: string): boolean => (JSON.parse(l) as { strategy_id: string }).strategy_id === c.id;
      const plain = await runStrategy(def, base);
      // kit-a has two instruments and its one-off timer names none: its signal is refused, with a message that says so.
      expect(plain.errors.map((e) => e.error.message)).toEqual(
        c.id === 'kit-a' ? ["strategy 'kit-a': onTimer ('once') returned a signal, but the timer names no instrument and the strategy has 2: schedule it with { instrument }"] : [],
      );
      expect(plain.signals.map((s) => JSON.stringify(s))).toEqual(replayed.filter(mine));
      const sim = await runStrategy(def, { ...base, fillModel: { model: 'next-tick', slippageBps: 2, feeBps: 1 } });
      expect(sim.signals.map((s) => JSON.stringify(s))).toEqual(backtested.filter(mine));
      expect(sim.fills.map((f) => JSON.stringify(f))).toEqual(fills.filter(mine));
    }
    // Every signal is an order: the report counts those that got no fill.
    const report = JSON.parse(readFileSync(join(dir, 'bt', 'report.json'), 'utf8')) as { run: { unfilled_orders: number; unfilled_orders_by_strategy: Record<string, number> } };
    expect(report.run.unfilled_orders).toBe(backtested.length - fills.length);
    // And replay --fills of the backtest's fills gives the backtest's signals.
    await cli(['replay', ...common, '--fills', join(dir, 'bt', 'fills.jsonl'), '--out', join(dir, 'refilled.jsonl'), '--quiet']);
    expect(readFileSync(join(dir, 'refilled.jsonl'), 'utf8')).toBe(readFileSync(join(dir, 'bt', 'signals.jsonl'), 'utf8'));
  });

  it('a strategy restarted by event-time supervision gets a fresh clock, timers and bars, re-warmed: byte-identical across pool and batch sizes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-kit-restart-'));
    writeFileSync(join(dir, 'ticks.jsonl'), ticks().map((x) => JSON.stringify(x)).join('\n') + '\n');
    writeFileSync(join(dir, 'strategies.json'), JSON.stringify([{ id: 'flaky', strategy_type: 'KitProbe', instruments: [11, 12, 13], parameters: { failEvery: 97 } }]));
    writeFileSync(join(dir, 'runner.json'), JSON.stringify({ strategyModules: [FIXTURE], supervision: { maxConsecutiveErrors: 1 } }));
    const common = ['--ticks', join(dir, 'ticks.jsonl'), '--strategies', join(dir, 'strategies.json'), '--config', join(dir, 'runner.json'), '--quiet'];
    await cli(['replay', ...common, '--out', join(dir, 'a.jsonl'), '--batch-size', '5']);
    await cli(['replay', ...common, '--out', join(dir, 'b.jsonl'), '--batch-size', '1000']);
    const a = readFileSync(join(dir, 'a.jsonl'), 'utf8');
    expect(a.length).toBeGreaterThan(0);
    expect(readFileSync(join(dir, 'b.jsonl'), 'utf8')).toBe(a);
  });
});
