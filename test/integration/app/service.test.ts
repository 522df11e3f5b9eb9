import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseStrategyConfigs, type StrategyConfigInput } from '../../../src/config/strategy-config.js';
import { SignalSchema, type Signal } from '../../../src/domain/signal.js';
import type { Tick } from '../../../src/domain/tick.js';
import { StrategyRegistry } from '../../../src/strategies/registry.js';
import { consumeUntil, produce } from '../../helpers/infra.js';
import { referenceSignals } from '../../helpers/reference.js';
import { FIXTURE_MODULES, FIXTURES } from '../../helpers/runtime.js';
import { killMidStreamAndRestart } from '../../helpers/live-scenarios.js';
import { eventually, insertStrategy, serviceConfigInput, startService, strategyDatabase, testTopics } from '../../helpers/service.js';
import { randomWalk } from '../../helpers/ticks.js';

const TOKENS = [256265, 260105, 738561, 408065];
const STRATEGIES: StrategyConfigInput[] = [
  { id: 'mom', strategy_type: 'SimpleMomentumStrategy', instruments: [256265, 260105], parameters: { lookback_period: 5, momentum_threshold: 0.002 } },
  { id: 'mr', strategy_type: 'MeanReversionStrategy', instruments: TOKENS, parameters: { lookback_period: 10, deviation_threshold: 1.2 }, brokers: ['paper', 'zerodha'] },
  { id: 'stocks', strategy_type: 'SimpleMomentumStrategy', instruments: [738561, 408065], parameters: { lookback_period: 3, momentum_threshold: 0.003 } },
];

const tickMessages = (ticks: readonly Tick[]) => ticks.map((t) => ({ key: String(t.instrument_token), value: t }));
const parse = (values: { value: string }[]): Signal[] => values.map((m) => SignalSchema.parse(JSON.parse(m.value)));

async function expected(ticks: readonly Tick[], rows = STRATEGIES): Promise<Signal[]> {
  const registry = await StrategyRegistry.create(FIXTURE_MODULES, FIXTURES);
  return referenceSignals(registry, parseStrategyConfigs(rows, 'test').configs, ticks);
}

const byId = (a: Signal, b: Signal): number => (a.signal_id < b.signal_id ? -1 : a.signal_id > b.signal_id ? 1 : 0);

describe('strategy-runner run (Kafka + PostgreSQL)', { timeout: 120_000 }, () => {
  it('turns ticks on market.ticks into exactly the signals replay computes, on every broker topic, with headers', async () => {
    const t = await testTopics(['paper', 'zerodha']);
    const db = await strategyDatabase(STRATEGIES);
    const ticks = randomWalk(TOKENS, 3000, 11);
    const want = await expected(ticks);
    expect(want.length).toBeGreaterThan(50);
    const { service } = await startService(serviceConfigInput(t, db.url));
    await produce(t.ticks, tickMessages(ticks));

    const wantPaper = want.filter((s) => s.broker === 'paper');
    const wantZerodha = want.filter((s) => s.broker === 'zerodha');
    const paper = await consumeUntil(t.signalTopic('paper'), (m) => m.length >= wantPaper.length);
    const zerodha = await consumeUntil(t.signalTopic('zerodha'), (m) => m.length >= wantZerodha.length);
    expect(parse(paper).sort(byId)).toEqual([...wantPaper].sort(byId));
    expect(parse(zerodha).sort(byId)).toEqual([...wantZerodha].sort(byId));
    // Per strategy and instrument (one partition each), signals keep the order of their ticks.
    const order = (list: Signal[], id: string, token: number): string[] => list.filter((s) => s.strategy_id === id && s.instrument_token === token).map((s) => s.signal_id);
    for (const id of ['mom', 'mr']) expect(order(parse(paper), id, 256265)).toEqual(order(wantPaper, id, 256265));
    const first = paper[0]!;
    const s = SignalSchema.parse(JSON.parse(first.value));
    expect(first.key).toBe(String(s.instrument_token));
    expect(first.headers).toMatchObject({ 'strategy-id': s.strategy_id, 'signal-id': s.signal_id, 'strategy-type': s.strategy_type });

    // Offsets are committed once the signals are acknowledged: the lag drains to zero.
    const status = await eventually(
      'offsets committed',
      async () => (await fetch(`http://127.0.0.1:${service.statusPort}/status`).then((r) => r.json())) as { consumer: { partitions: { topic: string; lag: number; committed_offset: number | null; next_offset: number }[] } },
      (st) => {
        // Only the partitions the instruments' keys hash to have seen data.
        const parts = st.consumer.partitions.filter((p) => p.topic === t.ticks);
        return parts.reduce((a, p) => a + p.next_offset, 0) === 3000 && parts.every((p) => p.lag === 0 && p.committed_offset === p.next_offset);
      },
    );
    const metrics = await fetch(`http://127.0.0.1:${service.statusPort}/metrics`).then((r) => r.text());
    expect(metrics).toContain('strategy_runner_ticks_in_total 3000');
    expect(metrics).toMatch(/strategy_runner_signals_out_total\{strategy="mr"\} \d+/);
    expect(metrics).toMatch(/strategy_runner_handler_latency_seconds_count\{strategy="mom"\} \d+/);
    expect(metrics).toMatch(/strategy_runner_consumer_lag\{topic="[^"]+",partition="0"\} 0/);
    expect(metrics).toMatch(/^strategy_runner_warmup_ticks_total 0$/m);
    expect(metrics).toMatch(/^strategy_runner_consumer_partitions_lost_total 0$/m);
    expect(metrics).toMatch(/^strategy_runner_consumer_redelivered_ticks_total 0$/m);
    expect(await service.stop()).toBe(0);
  });

  it('applies fills to the strategy named in them, and rebuilds portfolios from orders.filled at the next start', async () => {
    const t = await testTopics();
    const db = await strategyDatabase([{ id: 'echo', strategy_type: 'PositionEcho', instruments: [7] }, { id: 'other', strategy_type: 'PositionEcho', instruments: [7] }]);
    const cfg = serviceConfigInput(t, db.url);
    const fill = (id: string, qty: number, price: number) => ({ key: 'echo', value: { fill_id: id, order_id: `o-${id}`, strategy_id: 'echo', instrument_token: 7, side: 'BUY', quantity: qty, price, timestamp: 1_700_000_000_000, broker: 'paper' } });

    const first = await startService(cfg);
    await produce(t.fills, [fill('f1', 5, 100), fill('f1', 5, 100), fill('f2', 5, 110)]);
    const sup = first.service.runtime!.supervisor;
    await eventually('fills applied', () => sup.status(), (s) => s.totals['fills_applied'] === 2);
    expect((await sup.status()).totals['fills_duplicate']).toBe(1);
    await produce(t.ticks, [{ key: '7', value: { instrument_token: 7, last_price: 120, timestamp: 1_700_000_001_000 } }]);
    const got = await consumeUntil(t.signalTopic('paper'), (m) => m.length >= 2);
    const reasons = parse(got).map((s) => `${s.strategy_id}: ${s.reason}`).sort();
    // 5 @ 100 + 5 @ 110 → 10 @ 105; cash −1050
    expect(reasons).toEqual(['echo: pos=10 avg=105 cash=-1050 fills=f1,f2 id=echo', 'other: pos=0 avg=0 cash=0 fills= id=other']);
    expect(await first.service.stop()).toBe(0);

    // A new process knows nothing: it reads orders.filled from the beginning before any tick.
    const second = await startService(cfg);
    expect(second.service.runtime!.supervisor.portfolioOf('echo')).toMatchObject({ cash: -1050, fill_count: 2, positions: [{ instrument_token: 7, quantity: 10, avg_price: 105 }] });
  });

  it('picks up a strategy row inserted in PostgreSQL at the next start; a row it cannot run is reported, not fatal', async () => {
    const t = await testTopics();
    const db = await strategyDatabase([{ id: 'a', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 1 } }]);
    const cfg = serviceConfigInput(t, db.url);
    const first = await startService(cfg);
    expect(first.service.runtime!.report.running).toEqual(['a']);
    expect(await first.service.stop()).toBe(0);

    await insertStrategy(db.sql, { id: 'b', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 1 } });
    await insertStrategy(db.sql, { id: 'c-bad', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 'seven' } });
    await insertStrategy(db.sql, { id: 'd-off', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 1 }, is_active: false });
    const second = await startService(cfg);
    const report = second.service.runtime!.report;
    expect(report.running).toEqual(['a', 'b']);
    expect(report.inactive).toEqual(['d-off']);
    expect(report.rejected).toEqual([expect.objectContaining({ strategyId: 'c-bad', error: expect.objectContaining({ code: 'STRATEGY_PARAMS_INVALID' }) })]);
    await produce(t.ticks, [{ key: '1', value: { instrument_token: 1, last_price: 10, timestamp: 1 } }]);
    const got = await consumeUntil(t.signalTopic('paper'), (m) => m.length >= 2);
    expect(parse(got).map((s) => s.strategy_id).sort()).toEqual(['a', 'b']);
  });

  it('takes strategies from a file when configured so, without a database', async () => {
    const t = await testTopics();
    const dir = mkdtempSync(join(tmpdir(), 'sr-file-'));
    writeFileSync(join(dir, 'strategies.json'), JSON.stringify([{ id: 'from-file', strategy_type: 'EveryNth', instruments: [3], parameters: { n: 1 } }]));
    const cfg = serviceConfigInput(t, 'postgres://nobody@127.0.0.1:1/none', { strategies: { source: 'file', file: join(dir, 'strategies.json') } });
    const { service } = await startService(cfg);
    expect(service.runtime!.report.running).toEqual(['from-file']);
    await produce(t.ticks, [{ key: '3', value: { instrument_token: 3, last_price: 5, timestamp: 5 } }]);
    const got = await consumeUntil(t.signalTopic('paper'), (m) => m.length >= 1);
    expect(parse(got)[0]).toMatchObject({ strategy_id: 'from-file', price: 5 });
  });

  it('sends poison ticks and fills to the dead-letter topic with the reason, and the stream goes on', async () => {
    const t = await testTopics(['paper'], 1);
    const db = await strategyDatabase([{ id: 'every', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 1 } }]);
    const { service } = await startService(serviceConfigInput(t, db.url));
    await produce(t.ticks, [
      { key: '1', value: { instrument_token: 1, last_price: 10, timestamp: 1000 } },
      { key: '1', value: 'this is not json' },
      { key: '1', value: { instrument_token: 1, last_price: -4, timestamp: 2000 } },
      { key: '1', value: { instrument_token: 1, last_price: 11, timestamp: 3000 } },
    ]);
    await produce(t.fills, [{ key: 'every', value: { fill_id: 'x', strategy_id: 'every' } }]);
    const dead = await consumeUntil(t.deadLetter, (m) => m.length >= 3);
    expect(dead).toHaveLength(3);
    const tickDead = dead.filter((d) => d.headers['x-dlq-source-topic'] === t.ticks).sort((a, b) => Number(a.headers['x-dlq-source-offset']) - Number(b.headers['x-dlq-source-offset']));
    expect(tickDead.map((d) => d.value)).toEqual(['this is not json', JSON.stringify({ instrument_token: 1, last_price: -4, timestamp: 2000 })]);
    expect(tickDead[0]!.headers).toMatchObject({ 'x-dlq-error-code': 'TICK_INVALID', 'x-dlq-source-partition': '0', 'x-dlq-source-offset': '1' });
    expect(tickDead[0]!.headers['x-dlq-reason']).toContain('not valid JSON');
    expect(tickDead[1]!.headers['x-dlq-reason']).toContain('last_price');
    expect(tickDead[0]!.key).toBe('1');
    const fillDead = dead.find((d) => d.headers['x-dlq-source-topic'] === t.fills)!;
    expect(fillDead.headers).toMatchObject({ 'x-dlq-error-code': 'FILL_INVALID' });
    expect(fillDead.headers['x-dlq-reason']).toContain('instrument_token');
    const signals = await consumeUntil(t.signalTopic('paper'), (m) => m.length >= 2);
    expect(parse(signals).map((s) => s.price)).toEqual([10, 11]);
    const st = (await fetch(`http://127.0.0.1:${service.statusPort}/status`).then((r) => r.json())) as { consumer: { counters: Record<string, number> }; producer: Record<string, number> };
    expect(st.consumer.counters).toMatchObject({ badTicks: 2, badFills: 1 });
    expect(st.producer['dead_lettered']).toBe(3);
  });

  it('loses no signal when killed with SIGKILL mid-stream and started again', async () => {
    await killMidStreamAndRestart();
  });
});
