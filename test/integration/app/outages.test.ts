import { mkdtempSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { Service } from '../../../src/app/service.js';
import type { ConfigWatchStatus } from '../../../src/app/strategy-config-loading.js';
import { parseServiceConfig, type ServiceConfigInput } from '../../../src/config/service-config.js';
import { FIXTURES, memoryLogger } from '../../helpers/runtime.js';
import { eventually, insertStrategy, serviceConfigInput, strategyDatabase, testTopics } from '../../helpers/service.js';
import { TcpProxy } from '../../helpers/tcp-proxy.js';

function serviceOf(input: ServiceConfigInput): { service: Service; lines: Record<string, unknown>[] } {
  const { logger, lines } = memoryLogger('info');
  const service = new Service(parseServiceConfig(input, 'test', FIXTURES), logger);
  onTestFinished(async () => {
    await service.stop();
  });
  return { service, lines };
}

/** A loopback port nobody listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const readyz = (s: Service): Promise<number> =>
  s.statusPort === undefined ? Promise.resolve(0) : fetch(`http://127.0.0.1:${s.statusPort}/readyz`).then((r) => r.status).catch(() => 0);

/** The configuration watcher's state, as /status reports it. */
const configWatch = async (s: Service): Promise<ConfigWatchStatus> =>
  ((await (await fetch(`http://127.0.0.1:${s.statusPort}/status`)).json()) as { config_watch: ConfigWatchStatus }).config_watch;

/** The test database through a proxy the test can cut. */
async function proxiedDatabase(rows: Parameters<typeof strategyDatabase>[0]) {
  const db = await strategyDatabase(rows);
  const real = new URL(db.url);
  const proxy = new TcpProxy(real.hostname, Number(real.port || 5432));
  const port = await proxy.open();
  const via = new URL(db.url);
  via.port = String(port);
  return { db, proxy, url: via.toString() };
}

describe('outages', { timeout: 120_000 }, () => {
  it('PostgreSQL unreachable at start: retries with a clear log line, and starts once it answers', async () => {
    const t = await testTopics();
    const { proxy, url } = await proxiedDatabase([{ id: 'a', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 1 } }]);
    await proxy.cut();
    const port = await freePort();
    const { service, lines } = serviceOf(serviceConfigInput(t, url, { status: { port } }));
    const starting = service.start();
    await eventually('retries logged', () => lines.filter((l) => String(l['msg']).startsWith('PostgreSQL unreachable')).length, (n) => n >= 2, 15_000);
    expect(service.state).toBe('starting');
    // The status endpoint is up meanwhile and says what the start waits for.
    const why = (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as { status: string; reasons: string[] };
    expect(why.status).toBe('not ready');
    expect(why.reasons[0]).toMatch(/^PostgreSQL unreachable since \d{4}-.*Z: strategy configurations cannot be read \(\d+ attempts; last: /);
    await proxy.open();
    await starting;
    expect(service.runtime!.report.running).toEqual(['a']);
  });

  it('PostgreSQL unreachable at start with a cache file: starts from the last known configurations, then follows the table when it is back', async () => {
    const t = await testTopics();
    const { db, proxy, url } = await proxiedDatabase([{ id: 'a', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 1 } }]);
    const cacheFile = join(mkdtempSync(join(tmpdir(), 'sr-cache-')), 'last-configurations.json');
    const cfg = serviceConfigInput(t, url, { strategies: { cacheFile, fallbackAfterMs: 300, reloadIntervalMs: 60_000 } });
    const first = serviceOf(cfg).service;
    await first.start();
    expect(await first.stop()).toBe(0);

    await proxy.cut();
    await insertStrategy(db.sql, { id: 'b', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 1 } });
    const { service, lines } = serviceOf(cfg);
    await service.start();
    expect(service.runtime!.report.running).toEqual(['a']);
    expect(lines.some((l) => l['msg'] === 'starting from the last known configurations (cache file) until PostgreSQL answers')).toBe(true);
    await proxy.open();
    await eventually('b started once PostgreSQL answers', () => service.runtime!.supervisor.strategyState('b'), (s) => s === 'running', 30_000);
  });

  it('PostgreSQL gone while running: keeps running on the configurations it has', async () => {
    const t = await testTopics();
    const { proxy, url } = await proxiedDatabase([{ id: 'a', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 1 } }]);
    const { service } = serviceOf(serviceConfigInput(t, url, { strategies: { reloadIntervalMs: 300 } }));
    await service.start();
    const failuresBefore = (await configWatch(service)).failures;
    await proxy.cut();
    // several failed periodic reloads, the listener waiting for the database
    await eventually('failed periodic reloads', () => configWatch(service), (w) => w.state === 'reconnecting' && w.failures >= failuresBefore + 2, 15_000);
    expect(service.state).toBe('running');
    expect(service.runtime!.supervisor.strategyState('a')).toBe('running');
    expect(await readyz(service)).toBe(200);
  });
});
