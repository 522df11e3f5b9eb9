import { describe, expect, it } from 'vitest';
import type { Fill } from '../../../src/domain/fill.js';
import { ticksOf, mergeTicks, randomWalk } from '../../helpers/ticks.js';
import { configs, newSupervisor, runTicks, signalsOf } from '../../helpers/runtime.js';

const fill = (over: Partial<Fill> = {}): Fill => ({
  fill_id: 'f1',
  strategy_id: 'echo',
  instrument_token: 1,
  side: 'BUY',
  quantity: 10,
  price: 100,
  timestamp: 1_700_000_000_500,
  ...over,
});

describe('Supervisor', () => {
  it('starts one thread per strategy by default and packs strategies onto fewer threads when the pool is smaller', async () => {
    const entries = Array.from({ length: 5 }, (_, i) => ({ id: `s${i}`, strategy_type: 'EveryNth', instruments: [1], parameters: { n: 2 } }));
    for (const [poolSize, threads] of [[undefined, 5], [2, 2], [9, 5]] as const) {
      const { supervisor } = await newSupervisor(poolSize === undefined ? {} : { poolSize });
      try {
        const report = await supervisor.start(configs(entries));
        expect(report.threads).toBe(threads);
        const status = await supervisor.status();
        expect(status.threads).toHaveLength(threads);
        expect(status.threads.flatMap((t) => t.strategies.map((s) => s['id'])).sort()).toEqual(['s0', 's1', 's2', 's3', 's4']);
        const threadIds = new Set(status.threads.map((t) => t.thread_id));
        expect(threadIds.size).toBe(threads);
        // Each strategy keeps its own state even when sharing a thread: every one emits on ticks 2 and 4.
        const signals = await runTicks(supervisor, ticksOf(1, [10, 11, 12, 13]));
        expect(signals.map((s) => `${s.strategy_id}@${s.price}`)).toEqual([
          's0@11', 's1@11', 's2@11', 's3@11', 's4@11',
          's0@13', 's1@13', 's2@13', 's3@13', 's4@13',
        ]);
        expect(signals[0]).toMatchObject({ side: 'SELL', quantity: 2, reason: 's0 #2', strategy_type: 'EveryNth', broker: 'paper' });
      } finally {
        await supervisor.stop();
      }
    }
  });

  it('rejects a strategy with bad parameters or an unknown type, naming it, and starts the others', async () => {
    const { supervisor, lines } = await newSupervisor();
    try {
      const report = await supervisor.start(
        configs([
          { id: 'good', strategy_type: 'SimpleMomentumStrategy', instruments: [1] },
          { id: 'badparam', strategy_type: 'SimpleMomentumStrategy', instruments: [1], parameters: { lookback_period: 0 } },
          { id: 'typo', strategy_type: 'SimpleMomentumStrategyy', instruments: [1] },
          { id: 'off', strategy_type: 'Nonexistent', instruments: [1], is_active: false },
        ]),
      );
      expect(report.running).toEqual(['good']);
      expect(report.inactive).toEqual(['off']);
      const [bad, typo] = report.rejected;
      expect(bad).toMatchObject({ strategyId: 'badparam', error: { code: 'STRATEGY_PARAMS_INVALID' } });
      expect(bad!.error.message).toMatch(/strategy 'badparam'.*lookback_period/);
      expect(typo).toMatchObject({ strategyId: 'typo', error: { code: 'STRATEGY_TYPE_UNKNOWN' } });
      expect(typo!.error.message).toContain("strategy 'typo'");
      expect(typo!.error.message).toMatch(/known types: .*MeanReversionStrategy, .*PositionEcho, .*SimpleMomentumStrategy/);
      expect(lines.filter((l) => l['msg'] === 'strategy not started').map((l) => l['strategy_id'])).toEqual(['badparam', 'typo']);
      expect(report.threads).toBe(1);
      const status = await supervisor.status();
      expect(status.rejected.map((r) => r.id)).toEqual(['badparam', 'typo']);
    } finally {
      await supervisor.stop();
    }
  });

  it('keeps each strategy its own portfolio from fills, ignores duplicate fill ids, and hands it over on every tick', async () => {
    const { supervisor } = await newSupervisor({ initialCash: 1000 });
    try {
      await supervisor.start(configs([
        { id: 'echo', strategy_type: 'PositionEcho', instruments: [1] },
        { id: 'other', strategy_type: 'PositionEcho', instruments: [1] },
      ]));
      const first = await runTicks(supervisor, ticksOf(1, [100]));
      expect(first.find((s) => s.strategy_id === 'echo')!.reason).toBe('pos=0 avg=0 cash=1000 fills= id=echo');

      expect(supervisor.applyFill(fill())).toBe('applied');
      expect(supervisor.applyFill(fill())).toBe('duplicate');
      expect(supervisor.applyFill(fill({ fill_id: 'f2', quantity: 10, price: 110 }))).toBe('applied');
      expect(supervisor.applyFill(fill({ fill_id: 'f9', strategy_id: 'ghost' }))).toBe('unknown-strategy');

      const after = await runTicks(supervisor, ticksOf(1, [105], 1_700_000_001_000));
      // 10@100 + 10@110 → 20 @ 105; cash 1000 − 1000 − 1100 = −1100
      expect(after.find((s) => s.strategy_id === 'echo')!.reason).toBe('pos=20 avg=105 cash=-1100 fills=f1,f2 id=echo');
      expect(after.find((s) => s.strategy_id === 'other')!.reason).toBe('pos=0 avg=0 cash=1000 fills= id=other');
      expect(supervisor.portfolioOf('echo')).toMatchObject({ cash: -1100, realized_pnl: 0, fill_count: 2, positions: [{ instrument_token: 1, quantity: 20, avg_price: 105 }] });
      const status = await supervisor.status();
      expect(status.totals).toMatchObject({ fills_applied: 2, fills_duplicate: 1, fills_unknown_strategy: 1 });
    } finally {
      await supervisor.stop();
    }
  });

  it('routes each tick only to the strategies that want its instrument and counts the rest as unrouted', async () => {
    const { supervisor } = await newSupervisor({ poolSize: 2 });
    try {
      await supervisor.start(configs([
        { id: 'a', strategy_type: 'EveryNth', instruments: [1, 2], parameters: { n: 1 } },
        { id: 'b', strategy_type: 'EveryNth', instruments: [2, 3], parameters: { n: 1 } },
        { id: 'c', strategy_type: 'EveryNth', instruments: [3], parameters: { n: 1 } },
      ]));
      expect(supervisor.routes.strategiesFor(2)).toEqual(['a', 'b']);
      const ticks = mergeTicks(ticksOf(1, [10]), ticksOf(2, [20]), ticksOf(3, [30]), ticksOf(4, [40]));
      const r = await supervisor.dispatch(ticks);
      expect(r.signals.map((s) => `${s.instrument_token}:${s.strategy_id}`)).toEqual(['1:a', '2:a', '2:b', '3:b', '3:c']);
      expect(r.unrouted).toBe(1);
    } finally {
      await supervisor.stop();
    }
  });

  it('emits one signal per broker the strategy lists, with deterministic ids', async () => {
    const ticks = ticksOf(1, [10, 11]);
    const entries = [{ id: 'multi', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 1 }, brokers: ['paper', 'zerodha'] }];
    const a = await signalsOf(entries, ticks);
    const b = await signalsOf(entries, ticks, { poolSize: 1 });
    expect(a.map((s) => s.broker)).toEqual(['paper', 'zerodha', 'paper', 'zerodha']);
    expect(new Set(a.map((s) => s.signal_id)).size).toBe(4);
    expect(b).toEqual(a);
  });

  it('reports per-thread health: heartbeat, heap, counters and handler latency', async () => {
    const { supervisor } = await newSupervisor({ poolSize: 1 });
    try {
      await supervisor.start(configs([
        { id: 'm', strategy_type: 'SimpleMomentumStrategy', instruments: [1, 2], parameters: { lookback_period: 3 } },
        { id: 'r', strategy_type: 'MeanReversionStrategy', instruments: [2] },
      ]));
      await runTicks(supervisor, randomWalk([1, 2], 500, 3));
      const s = await supervisor.status();
      expect(s.state).toBe('running');
      expect(s.threads).toHaveLength(1);
      const t = s.threads[0]!;
      expect(t.state).toBe('ready');
      expect(t.thread_id).toBeGreaterThan(0);
      const rTicks = t.strategies.find((x) => x['id'] === 'r')!['ticks_in'] as number;
      expect(rTicks).toBeGreaterThan(100); // r only wants instrument 2
      expect(rTicks).toBeLessThan(500);
      expect(t.ticks_in).toBe(500 + rTicks);
      expect(t.queue_depth).toBe(0);
      expect(t.last_heartbeat_age_ms).toBeGreaterThanOrEqual(0);
      expect(t.last_heartbeat_age_ms).toBeLessThan(5000);
      expect(t.heap_used_bytes).toBeGreaterThan(1_000_000);
      expect(t.heap_total_bytes).toBeGreaterThanOrEqual(t.heap_used_bytes!);
      const m = t.strategies.find((x) => x['id'] === 'm')!;
      expect(m['ticks_in']).toBe(500);
      expect(m['latency_us']).toMatchObject({ count: 500 });
      const lat = m['latency_us'] as { p50: number; p99: number; max: number };
      expect(lat.p50).toBeGreaterThan(0);
      expect(lat.p99).toBeGreaterThanOrEqual(lat.p50);
      expect(lat.max).toBeGreaterThanOrEqual(lat.p99);
      expect(s.routing).toEqual({ instruments: 2, strategies: 2 });
    } finally {
      await supervisor.stop();
    }
    expect(supervisor.state).toBe('stopped');
    await supervisor.stop(); // idempotent
  });
});
