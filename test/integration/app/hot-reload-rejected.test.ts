import { describe, expect, it } from 'vitest';
import { SignalSchema, type Signal } from '../../../src/domain/signal.js';
import { consumeUntil, produce } from '../../helpers/infra.js';
import { eventually, serviceConfigInput, startService, strategyDatabase, testTopics } from '../../helpers/service.js';
import { strategiesFile } from '../../helpers/strategies-file.js';

const parse = (values: { value: string }[]): Signal[] => values.map((m) => SignalSchema.parse(JSON.parse(m.value)));
const tick = (price: number, ts: number) => ({ key: '1', value: { instrument_token: 1, last_price: price, timestamp: ts } });

interface StrategyEntry {
  id: string;
  state: string;
  restarts: number;
  rejected_updates: number;
  rejected_update: { code: string; error: string; fields: string[] } | null;
}

/** One strategy's entry in the /status document. */
async function statusEntry(port: number, id: string): Promise<StrategyEntry | undefined> {
  const st = (await fetch(`http://127.0.0.1:${port}/status`).then((r) => r.json())) as { threads: { strategies: StrategyEntry[] }[] };
  return st.threads.flatMap((x) => x.strategies).find((s) => s.id === id);
}

describe('strategy-runner run: an update PostgreSQL accepts but the runner cannot run', { timeout: 120_000 }, () => {
  it('keeps the running version running, reports the update on /status, and applies the row once it is fixed', async () => {
    const t = await testTopics();
    const db = await strategyDatabase([{ id: 'm', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 1 } }]);
    const { service, lines } = await startService(serviceConfigInput(t, db.url));
    const entry = (): Promise<StrategyEntry | undefined> => statusEntry(service.statusPort!, 'm');

    await db.sql`UPDATE strategy_configurations SET parameters = '{"n": -1}' WHERE id = 'm'`;
    const rejected = await eventually('update rejected', entry, (e) => e === undefined || (e.rejected_update ?? null) !== null, 15_000);
    expect(rejected).toMatchObject({ state: 'running', restarts: 0, rejected_updates: 1, rejected_update: { code: 'STRATEGY_PARAMS_INVALID', fields: ['parameters'] } });
    expect(rejected!.rejected_update!.error).toContain("strategy 'm'");
    expect(lines.find((l) => l['msg'] === 'strategy configuration update rejected: the running version keeps running')).toMatchObject({ strategy_id: 'm', code: 'STRATEGY_PARAMS_INVALID' });
    // Still the old version (n = 1): a signal on every tick.
    await produce(t.ticks, [tick(10, 1), tick(11, 2)]);
    expect(parse(await consumeUntil(t.signalTopic('paper'), (m) => m.length >= 2)).map((s) => s.price)).toEqual([10, 11]);

    await db.sql`UPDATE strategy_configurations SET strategy_type = 'NoSuchStrategy' WHERE id = 'm'`;
    expect(await eventually('type rejected', entry, (e) => e?.rejected_update?.code === 'STRATEGY_TYPE_UNKNOWN', 15_000)).toMatchObject({ state: 'running', rejected_updates: 2 });

    // Fixed: applied with the new configuration.
    await db.sql`UPDATE strategy_configurations SET strategy_type = 'EveryNth', parameters = '{"n": 2}' WHERE id = 'm'`;
    expect(await eventually('fixed row applied', entry, (e) => e?.rejected_update === null && e.restarts === 1 && e.state === 'running', 15_000)).toMatchObject({ state: 'running' });
    await produce(t.ticks, [tick(20, 3), tick(21, 4), tick(22, 5), tick(23, 6)]);
    // n = 2, re-warmed with the two ticks it saw: its 4th and 6th ticks emit.
    expect(parse(await consumeUntil(t.signalTopic('paper'), (m) => m.length >= 4)).map((s) => s.price)).toEqual([10, 11, 21, 23]);
    expect(service.state).toBe('running');
  });

  it('a strategies-file entry that no longer validates as a row does not stop the strategy either', async () => {
    const t = await testTopics();
    const { file, write } = strategiesFile([{ id: 'm', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 1 } }]);
    const { service } = await startService(serviceConfigInput(t, 'postgres://nobody@127.0.0.1:1/none', { strategies: { source: 'file', file } }));
    const entry = (): Promise<StrategyEntry | undefined> => statusEntry(service.statusPort!, 'm');
    write([{ id: 'm', strategy_type: 'EveryNth', instruments: [], parameters: { n: 1 } }]);
    const rejected = await eventually('update rejected', entry, (e) => e === undefined || (e.rejected_update ?? null) !== null, 15_000);
    expect(rejected).toMatchObject({ state: 'running', rejected_update: { code: 'STRATEGY_CONFIG_INVALID' } });
    await produce(t.ticks, [tick(10, 1)]);
    expect(parse(await consumeUntil(t.signalTopic('paper'), (m) => m.length >= 1)).map((s) => s.strategy_id)).toEqual(['m']);
    write([{ id: 'm', strategy_type: 'EveryNth', instruments: [1, 2], parameters: { n: 1 } }]);
    expect(await eventually('fixed entry applied', entry, (e) => e?.rejected_update === null && e.restarts === 1 && e.state === 'running', 15_000)).toMatchObject({ state: 'running' });
    // Removing the entry still removes the strategy.
    write([]);
    await eventually('m stopped', () => service.runtime!.supervisor.strategyState('m'), (s) => s === undefined, 15_000);
  });
});
