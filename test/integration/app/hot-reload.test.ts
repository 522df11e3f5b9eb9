import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Service } from '../../../src/app/service.js';
import type { ConfigWatchStatus } from '../../../src/app/strategy-config-loading.js';
import { SignalSchema, type Signal } from '../../../src/domain/signal.js';
import { consumeUntil, produce } from '../../helpers/infra.js';
import { eventually, insertStrategy, serviceConfigInput, startService, strategyDatabase, testTopics } from '../../helpers/service.js';
import { strategiesFile } from '../../helpers/strategies-file.js';

const parse = (values: { value: string }[]): Signal[] => values.map((m) => SignalSchema.parse(JSON.parse(m.value)));
/** The configuration watcher's state, as /status reports it. */
const configWatch = async (s: Service): Promise<ConfigWatchStatus> =>
  ((await (await fetch(`http://127.0.0.1:${s.statusPort}/status`)).json()) as { config_watch: ConfigWatchStatus }).config_watch;
const tick = (price: number, ts: number) => ({ key: '1', value: { instrument_token: 1, last_price: price, timestamp: ts } });

describe('strategy-runner run: configuration changes without a restart', { timeout: 120_000 }, () => {
  it('follows strategy_configurations through NOTIFY: insert starts, update restarts, deactivate stops', async () => {
    const t = await testTopics(['paper', 'zerodha']);
    const db = await strategyDatabase([{ id: 'a', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 1 } }]);
    const { service } = await startService(serviceConfigInput(t, db.url));
    const sup = service.runtime!.supervisor;

    await insertStrategy(db.sql, { id: 'b', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 1 }, brokers: ['zerodha'] });
    await eventually('b started', () => sup.strategyState('b'), (s) => s === 'running', 15_000);
    await produce(t.ticks, [tick(10, 1)]);
    expect(parse(await consumeUntil(t.signalTopic('zerodha'), (m) => m.length >= 1)).map((s) => s.strategy_id)).toEqual(['b']);

    await db.sql`UPDATE strategy_configurations SET parameters = '{"n": 2}' WHERE id = 'b'`;
    await eventually('b restarted', async () => (await sup.status()).threads.flatMap((x) => x.strategies).find((s) => s['id'] === 'b')?.['last_restart_reason'], (r) => r === 'configuration changed (parameters)', 15_000);

    await db.sql`UPDATE strategy_configurations SET is_active = false WHERE id = 'a'`;
    await eventually('a stopped', () => sup.strategyState('a'), (s) => s === undefined, 15_000);
    expect(sup.routes.strategiesFor(1)).toEqual(['b']);
    await db.sql`DELETE FROM strategy_configurations WHERE id = 'b'`;
    await eventually('b stopped', () => sup.routes.strategiesFor(1), (ids) => ids.length === 0, 15_000);
    expect(service.state).toBe('running');
  });

  it('follows a strategies file: a rewrite (also by rename) is applied, a broken file is ignored', async () => {
    const t = await testTopics();
    const { file, write } = strategiesFile([{ id: 'x', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 1 } }]);
    const { service } = await startService(serviceConfigInput(t, 'postgres://nobody@127.0.0.1:1/none', { strategies: { source: 'file', file } }));
    const sup = service.runtime!.supervisor;
    write([{ id: 'x', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 1 } }, { id: 'y', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 1 } }]);
    await eventually('y started', () => sup.strategyState('y'), (s) => s === 'running', 15_000);
    const failuresBefore = (await configWatch(service)).failures;
    writeFileSync(file, '{ not json');
    await eventually('the broken file rejected', async () => (await configWatch(service)).failures, (n) => n > failuresBefore, 15_000);
    expect(sup.strategyState('y')).toBe('running');
    await produce(t.ticks, [tick(5, 1)]);
    expect(parse(await consumeUntil(t.signalTopic('paper'), (m) => m.length >= 2)).map((s) => s.strategy_id).sort()).toEqual(['x', 'y']);
    // What `run` does on SIGHUP.
    service.reload();
    write([{ id: 'y', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 1 } }]);
    await eventually('x stopped', () => sup.strategyState('x'), (s) => s === undefined, 15_000);
  });
});
