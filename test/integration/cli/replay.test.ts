import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../../helpers/cli.js';
import { parseStrategyConfigs } from '../../../src/config/strategy-config.js';
import { decodeTick, type Tick } from '../../../src/domain/tick.js';
import { SignalSchema, type Signal } from '../../../src/domain/signal.js';
import { StrategyRegistry } from '../../../src/strategies/registry.js';
import { referenceSignals } from '../../helpers/reference.js';


const cli = (args: string[]) => runCli(args);

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'sr-replay-'));
}

const parseSignals = (text: string): Signal[] => text.trim().split('\n').filter(Boolean).map((l) => SignalSchema.parse(JSON.parse(l)));

describe('strategy-runner replay', () => {
  it('emits exactly the hand-computed signals, skipping malformed lines with their line numbers', async () => {
    const dir = tmp();
    // Momentum, lookback 2, threshold 0.05 on token 1:
    //   100, 100, 110 → m = (110−100)/100 = 0.10 > 0.05 → regime +1: BUY @110
    //   110          → m = (110−100)/100 = 0.10 → still +1: nothing
    //   100          → m = (100−110)/110 = −0.0909 < −0.05 → −1: SELL @100
    //   90           → m = (90−110)/110 = −0.18 → still −1: nothing
    // Token 2 is nobody's: unrouted.
    const lines = [
      '{"instrument_token":1,"last_price":100,"timestamp":1700000000000}',
      '{"instrument_token":1,"last_price":100,"timestamp":"2023-11-14T22:13:21Z"}',
      'this is not json',
      '{"instrument_token":2,"last_price":5,"timestamp":1700000001500}',
      '{"instrument_token":1,"last_price":110,"timestamp":1700000002000,"volume":7}',
      '{"instrument_token":1,"last_price":-3,"timestamp":1700000002500}',
      '',
      '{"instrument_token":1,"last_price":110,"timestamp":1700000003000}',
      '{"instrument_token":1,"last_price":100,"timestamp":"2023-11-15T03:43:24.000+05:30"}',
      '{"instrument_token":1,"last_price":90,"timestamp":1700000005000}',
    ];
    writeFileSync(join(dir, 'ticks.jsonl'), lines.join('\n') + '\n');
    writeFileSync(
      join(dir, 'strategies.json'),
      JSON.stringify([
        { id: 'mom', strategy_type: 'SimpleMomentumStrategy', instruments: [1], parameters: { lookback_period: 2, momentum_threshold: 0.05, quantity: 3 } },
      ]),
    );
    const r = await cli(['replay', '--ticks', join(dir, 'ticks.jsonl'), '--strategies', join(dir, 'strategies.json'), '--out', join(dir, 'out.jsonl')]);
    expect(r.code).toBe(0);
    const signals = parseSignals(readFileSync(join(dir, 'out.jsonl'), 'utf8'));
    expect(signals.map(({ signal_id, reason, ...rest }) => rest)).toEqual([
      { strategy_id: 'mom', strategy_type: 'SimpleMomentumStrategy', instrument_token: 1, side: 'BUY', quantity: 3, price: 110, tick_timestamp: 1700000002000, broker: 'paper' },
      { strategy_id: 'mom', strategy_type: 'SimpleMomentumStrategy', instrument_token: 1, side: 'SELL', quantity: 3, price: 100, tick_timestamp: 1700000004000, broker: 'paper' },
    ]);
    expect(signals[0]!.reason).toBe('momentum 0.100000');
    expect(signals[0]!.signal_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // Malformed lines are reported with file and line number, and the run goes on.
    expect(r.stderr).toContain('ticks.jsonl:3');
    expect(r.stderr).toContain('not valid JSON');
    expect(r.stderr).toContain('ticks.jsonl:6');
    expect(r.stderr).toContain('last_price');
    expect(r.stderr).toMatch(/replay: 7 ticks in .* 2 signals/);
    expect(r.stderr).toContain('malformed input lines skipped: 2');
    expect(r.stderr).toContain('mom: 2 signals, 0 errors');
  });

  it('reproduces the single-thread reference on the sample, byte for byte whatever the pool and batch size', async () => {
    const ticksFile = join(ROOT, 'samples/ticks.jsonl');
    const strategiesFile = join(ROOT, 'samples/strategies.json');
    const ticks: Tick[] = readFileSync(ticksFile, 'utf8').trim().split('\n').map((l) => {
      const d = decodeTick(l);
      if (!d.ok) throw new Error(d.reason);
      return d.tick;
    });
    const cfgs = parseStrategyConfigs(JSON.parse(readFileSync(strategiesFile, 'utf8')) as unknown[], 'sample').configs;
    const expected = referenceSignals(new StrategyRegistry(), cfgs, ticks);
    expect(expected.length).toBeGreaterThan(100);
    expect(new Set(expected.map((s) => s.strategy_id)).size).toBe(4);

    const outputs: string[] = [];
    for (const extra of [[], ['--pool-size', '1'], ['--pool-size', '2', '--batch-size', '13']]) {
      const r = await cli(['replay', '--ticks', ticksFile, '--strategies', strategiesFile, '--log-level', 'warn', '--quiet', ...extra]);
      expect(r.code, r.stderr).toBe(0);
      outputs.push(r.stdout);
    }
    expect(parseSignals(outputs[0]!)).toEqual(expected);
    expect(outputs[1]).toBe(outputs[0]);
    expect(outputs[2]).toBe(outputs[0]);
  });

  it('applies fills from --fills at their time, and reports a bad strategy without stopping the others', async () => {
    const dir = tmp();
    const ticks = [100, 101, 102].map((p, i) => JSON.stringify({ instrument_token: 1, last_price: p, timestamp: 1000 + i * 1000 }));
    writeFileSync(join(dir, 'ticks.jsonl'), ticks.join('\n'));
    writeFileSync(
      join(dir, 'fills.jsonl'),
      [
        JSON.stringify({ fill_id: 'a', strategy_id: 'echo', instrument_token: 1, side: 'BUY', quantity: 5, price: 100, timestamp: 1500 }),
        '{"fill_id": "broken"}',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ strategyModules: [join(ROOT, 'test/fixtures/strategies/portfolio-aware.mjs')] }));
    writeFileSync(
      join(dir, 'strategies.json'),
      JSON.stringify({
        strategies: [
          { id: 'echo', strategy_type: 'PositionEcho', instruments: [1] },
          { id: 'bad', strategy_type: 'MeanReversionStrategy', instruments: [1], parameters: { deviation_threshold: -1 } },
          { id: 'nope', strategy_type: 'NoSuchThing', instruments: [1] },
          { id: 'broken-row', instruments: [] },
        ],
      }),
    );
    const r = await cli(['replay', '--config', join(dir, 'config.json'), '--ticks', join(dir, 'ticks.jsonl'), '--fills', join(dir, 'fills.jsonl'), '--strategies', join(dir, 'strategies.json')]);
    expect(r.code, r.stderr).toBe(0);
    const reasons = parseSignals(r.stdout).map((s) => s.reason);
    expect(reasons).toEqual([
      'pos=0 avg=0 cash=0 fills= id=echo',
      'pos=5 avg=100 cash=-500 fills=a id=echo',
      'pos=5 avg=100 cash=-500 fills=a id=echo',
    ]);
    expect(r.stderr).toContain('fills.jsonl:2');
    expect(r.stderr).toMatch(/bad: NOT STARTED \[STRATEGY_PARAMS_INVALID\] strategy 'bad' \(MeanReversionStrategy\): invalid parameters: deviation_threshold/);
    expect(r.stderr).toMatch(/nope: NOT STARTED \[STRATEGY_TYPE_UNKNOWN\].*known types: .*PositionEcho/);
    expect(r.stderr).toMatch(/NOT LOADED \[STRATEGY_CONFIG_INVALID\] strategy 'broken-row'.*strategy_type/);
    expect(r.stderr).toContain('fills: 1 applied');
  });

  it('fails clearly on a missing file or a bad flag, with usage', async () => {
    const missing = await cli(['replay', '--ticks', '/nonexistent/t.jsonl', '--strategies', join(ROOT, 'samples/strategies.json')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('[INPUT_UNREADABLE] cannot read /nonexistent/t.jsonl');
    const usage = await cli(['replay', '--ticks', 'x', '--pool-size', 'two', '--strategies', 'y']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--pool-size must be an integer >= 1');
    expect(usage.stderr).toContain('Usage: strategy-runner replay');
    const unknown = await cli(['replay', '--tick', 'x']);
    expect(unknown.code).toBe(2);
    const help = await cli(['replay', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--status-port');
    expect(help.stdout).toContain('/status, /healthz, /readyz, /metrics');
  });
});

describe('strategy-runner strategies', () => {
  it('lists built-in and user types with their parameter schemas', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ strategyModules: [join(ROOT, 'test/fixtures/strategies/portfolio-aware.mjs')] }));
    const text = await cli(['strategies', '--config', join(dir, 'config.json')]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('SimpleMomentumStrategy  (builtin)');
    expect(text.stdout).toContain('- lookback_period: integer, >= 1, default 20');
    expect(text.stdout).toContain('- momentum_threshold: number, > 0, default 0.01');
    expect(text.stdout).toContain('EveryNth  (module');
    const json = await cli(['strategies', '--json']);
    const list = JSON.parse(json.stdout) as { type: string; parameters: { properties: Record<string, { default?: unknown }> } }[];
    expect(list.map((s) => s.type)).toEqual(['MeanReversionStrategy', 'SimpleMomentumStrategy']);
    expect(list[0]!.parameters.properties['deviation_threshold']!.default).toBe(1.5);
  });

  it('prints help for every command', async () => {
    for (const args of [['--help'], ['help', 'replay'], ['strategies', '--help']]) {
      const r = await cli(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Usage: strategy-runner');
    }
    expect((await cli(['frobnicate'])).code).toBe(2);
  });
});
