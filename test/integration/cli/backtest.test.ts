import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../../helpers/cli.js';
import { parseStrategyConfigs } from '../../../src/config/strategy-config.js';
import { FillWireSchema } from '../../../src/domain/fill.js';
import { SignalSchema, type Signal } from '../../../src/domain/signal.js';
import { StrategyRegistry } from '../../../src/strategies/registry.js';
import { runStrategy } from '../../../src/testing/index.js';

const cli = (args: string[]) => runCli(args);

const tmp = (): string => mkdtempSync(join(tmpdir(), 'sr-backtest-'));
const lines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter(Boolean);
const SAMPLE_TICKS = join(ROOT, 'samples/ticks.jsonl');
const SAMPLE_STRATEGIES = join(ROOT, 'samples/strategies.json');

describe('strategy-runner backtest', () => {
  it('hand-computed: next-tick fills with slippage and fees, the report, and the files', async () => {
    const dir = tmp();
    // Momentum, lookback 2, threshold 0.05, quantity 3 on token 1 (as in replay.test.ts):
    //   BUY on the tick @110 (t=2000), SELL on the tick @100 (t=4000).
    // next-tick: the BUY fills at the next token-1 tick, 110 (t=3000), the SELL at 90 (t=5000).
    // slippage 10 bps: BUY 110 × 1.001 = 110.11, SELL 90 × 0.999 = 89.91
    // fee 10 bps: 0.001 × 3 × 110.11 = 0.33033 and 0.001 × 3 × 89.91 = 0.26973 → 0.60006
    // realised 3 × (89.91 − 110.11) = −60.6; net −61.20006; one round trip, lost
    const ticks = [
      [1, 100, 0],
      [1, 100, 1000],
      [1, 110, 2000],
      [1, 110, 3000],
      [1, 100, 4000],
      [1, 90, 5000],
    ].map(([instrument_token, last_price, t]) => JSON.stringify({ instrument_token, last_price, timestamp: 1_700_000_000_000 + t! }));
    writeFileSync(join(dir, 'ticks.jsonl'), ticks.join('\n') + '\n');
    writeFileSync(
      join(dir, 'strategies.json'),
      JSON.stringify([{ id: 'mom', strategy_type: 'SimpleMomentumStrategy', instruments: [1], parameters: { lookback_period: 2, momentum_threshold: 0.05, quantity: 3 } }]),
    );
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ portfolio: { initialCash: 1000 } }));
    const out = join(dir, 'out');
    const r = await cli(['backtest', '--ticks', join(dir, 'ticks.jsonl'), '--strategies', join(dir, 'strategies.json'), '--config', join(dir, 'config.json'), '--slippage-bps', '10', '--fee-bps', '10', '--out', out, '--log-level', 'warn']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const fills = lines(join(out, 'fills.jsonl')).map((l) => FillWireSchema.parse(JSON.parse(l)));
    expect(fills.map((f) => [f.side, f.quantity, f.timestamp - 1_700_000_000_000])).toEqual([
      ['BUY', 3, 3000],
      ['SELL', 3, 5000],
    ]);
    expect(fills[0]!.price).toBeCloseTo(110.11, 10);
    expect(fills[1]!.price).toBeCloseTo(89.91, 10);
    const signals = lines(join(out, 'signals.jsonl')).map((l) => SignalSchema.parse(JSON.parse(l)));
    expect(fills.map((f) => f.order_id)).toEqual(signals.map((s) => s.signal_id));
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    const mom = report.strategies[0];
    expect(mom.strategy_id).toBe('mom');
    expect(mom.fills).toBe(2);
    expect(mom.realized_pnl).toBeCloseTo(-60.6, 9);
    expect(mom.fees).toBeCloseTo(0.60006, 9);
    expect(mom.net_pnl).toBeCloseTo(-61.20006, 9);
    expect(mom.final_equity).toBeCloseTo(1000 - 61.20006, 9);
    expect(mom.round_trips).toMatchObject({ closed: 1, winning: 0, losing: 1, open: 0, win_rate: 0 });
    expect(report.settings).toMatchObject({ fill_model: 'next-tick', slippage_bps: 10, fee_bps: 10, initial_cash: 1000 });
    expect(report.run).toMatchObject({ ticks: 6, signals: 2, unfilled_orders: 0, unfilled_orders_by_strategy: {} });
    expect(readFileSync(join(out, 'equity-mom.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\n?$/);
    expect(r.stdout).toContain('mom');
    expect(r.stdout).toMatch(/-61\.20/);
  }, 60_000);

  it('on the sample: replay --fills of its fills.jsonl gives the same signals, and runStrategy the same signals and fills per strategy', async () => {
    const dir = tmp();
    const out = join(dir, 'out');
    const r = await cli(['backtest', '--ticks', SAMPLE_TICKS, '--strategies', SAMPLE_STRATEGIES, '--fee-bps', '2', '--slippage-bps', '1', '--out', out, '--quiet', '--log-level', 'warn']);
    expect(r.code).toBe(0);
    const fills = lines(join(out, 'fills.jsonl'));
    expect(fills.length).toBeGreaterThan(100);
    const replayed = join(dir, 'replayed.jsonl');
    const rr = await cli(['replay', '--ticks', SAMPLE_TICKS, '--strategies', SAMPLE_STRATEGIES, '--fills', join(out, 'fills.jsonl'), '--out', replayed, '--quiet', '--log-level', 'warn']);
    expect(rr.code).toBe(0);
    expect(readFileSync(replayed, 'utf8')).toBe(readFileSync(join(out, 'signals.jsonl'), 'utf8'));

    // The test kit, strategy by strategy, in-process: the same signals and fills.
    const signals = lines(join(out, 'signals.jsonl')).map((l) => JSON.parse(l) as Signal);
    const registry = new StrategyRegistry();
    const configs = parseStrategyConfigs(JSON.parse(readFileSync(SAMPLE_STRATEGIES, 'utf8')) as unknown[], SAMPLE_STRATEGIES).configs.filter((c) => c.is_active);
    const ticks = lines(SAMPLE_TICKS).map((l) => JSON.parse(l) as unknown);
    for (const c of configs) {
      const kit = await runStrategy(registry.get(c.strategy_type)!, {
        id: c.id,
        params: c.parameters,
        instruments: c.instruments,
        brokers: c.brokers,
        ticks,
        fillModel: { model: 'next-tick', slippageBps: 1, feeBps: 2 },
      });
      expect(kit.errors).toEqual([]);
      expect(kit.signals.map((s) => JSON.stringify(s))).toEqual(signals.filter((s) => s.strategy_id === c.id).map((s) => JSON.stringify(s)));
      expect(kit.fills.map((f) => JSON.stringify(f))).toEqual(fills.filter((l) => (JSON.parse(l) as { strategy_id: string }).strategy_id === c.id));
    }
  }, 120_000);

  it('gives byte-identical files whatever the pool and batch size', async () => {
    const a = join(tmp(), 'a');
    const b = join(tmp(), 'b');
    const args = ['backtest', '--ticks', SAMPLE_TICKS, '--strategies', SAMPLE_STRATEGIES, '--fill-model', 'same-tick', '--fee-bps', '3', '--quiet', '--log-level', 'warn'];
    expect((await cli([...args, '--out', a, '--pool-size', '1', '--batch-size', '7'])).code).toBe(0);
    expect((await cli([...args, '--out', b, '--pool-size', '4', '--batch-size', '4096'])).code).toBe(0);
    for (const f of ['signals.jsonl', 'fills.jsonl', 'report.json', 'equity-Momentum_NIFTY50_1.svg']) {
      expect(existsSync(join(a, f))).toBe(true);
      expect(readFileSync(join(b, f), 'utf8')).toBe(readFileSync(join(a, f), 'utf8'));
    }
  }, 120_000);

  it('a bad flag is a usage error naming it', async () => {
    const r = await cli(['backtest', '--ticks', SAMPLE_TICKS, '--strategies', SAMPLE_STRATEGIES, '--fill-model', 'mid-price']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("--fill-model must be one of next-tick, same-tick, got 'mid-price'");
    const s = await cli(['backtest', '--ticks', SAMPLE_TICKS, '--strategies', SAMPLE_STRATEGIES, '--slippage-bps=-1']);
    expect(s.stderr).toContain("--slippage-bps must be a number of basis points from 0 to 9999, got '-1'");
  }, 60_000);
});
