import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRuntime, type Runtime } from '../../../src/app/runtime.js';
import { parseServiceConfig } from '../../../src/config/service-config.js';
import { parseStrategyConfigs } from '../../../src/config/strategy-config.js';
import { PROTOCOL_VERSION } from '../../../src/protocol/messages.js';
import { FIXTURES, memoryLogger, runTicks } from '../../helpers/runtime.js';
import { randomWalk } from '../../helpers/ticks.js';
import { eventually } from '../../helpers/service.js';

const TOKEN = 'test-token-0123456789';
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** # TYPE lines: metric name → type. */
function types(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1]!, m[2]!);
  return out;
}

describe('status server', () => {
  let rt: Runtime;
  let base: string;

  beforeAll(async () => {
    const config = parseServiceConfig(
      { strategyModules: ['./strategies/faulty.mjs'], status: { port: 0, controlToken: TOKEN }, pool: { size: 2, heartbeatIntervalMs: 100 } },
      'test',
      FIXTURES,
    );
    const configs = parseStrategyConfigs(
      [
        { id: 'm1', strategy_type: 'SimpleMomentumStrategy', instruments: [1, 2] },
        { id: 'm2', strategy_type: 'MeanReversionStrategy', instruments: [2] },
        { id: 't', strategy_type: 'Thrower', instruments: [1] },
        { id: 'bad', strategy_type: 'Nope', instruments: [1] },
        { id: 'invalid' },
      ],
      'test',
    );
    rt = await startRuntime({ config, configs, logger: memoryLogger('silent').logger, statusExtra: () => ({ replay: { progress: 0.5 } }) as never });
    base = `http://127.0.0.1:${rt.statusPort}`;
    await runTicks(rt.supervisor, randomWalk([1, 2], 200));
  });

  afterAll(async () => {
    await rt?.close();
  });

  it('binds to 127.0.0.1 by default', () => {
    expect(rt.statusPort).toBeGreaterThan(0);
  });

  it('GET /status shows every thread with its strategies, counters, heartbeat, latency and heap', async () => {
    const res = await fetch(`${base}/status`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    const body = (await res.json()) as Record<string, any>;
    expect(body['service']).toBe('strategy-runner');
    expect(body['state']).toBe('running');
    expect(body['threads']).toHaveLength(2);
    for (const t of body['threads']) {
      expect(t).toMatchObject({ state: 'ready', queue_depth: 0 });
      expect(t.thread_id).toBeGreaterThan(0);
      expect(t.last_heartbeat_age_ms).toBeLessThan(5000);
      expect(t.heap_used_bytes).toBeGreaterThan(0);
      for (const s of t.strategies) expect(s.latency_us).toHaveProperty('p99');
    }
    const strategies = body['threads'].flatMap((t: any) => t.strategies);
    expect(strategies.map((s: any) => s.id).sort()).toEqual(['m1', 'm2', 't']);
    const thrower = strategies.find((s: any) => s.id === 't');
    expect(thrower.errors).toBeGreaterThan(0);
    expect(thrower.last_error).toContain('boom');
    expect(body['rejected']).toEqual([expect.objectContaining({ id: 'bad', code: 'STRATEGY_TYPE_UNKNOWN' })]);
    expect(body['config_errors']).toEqual([expect.objectContaining({ code: 'STRATEGY_CONFIG_INVALID' })]);
    expect(body['totals']['ticks']).toBe(200);
    expect(body['replay']).toEqual({ progress: 0.5 });
  });

  it('answers /healthz and /readyz, and 404 with a hint elsewhere', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${base}/readyz`)).json()).toEqual({ status: 'ready' });
    expect(((await (await fetch(`${base}/status`)).json()) as { readiness: unknown }).readiness).toEqual({ ready: true, reasons: [], warnings: [] });
    const nf = await fetch(`${base}/nope`);
    expect(nf.status).toBe(404);
    expect(((await nf.json()) as { error: string }).error).toContain('/status');
    expect((await fetch(`${base}/status`, { method: 'POST' })).status).toBe(405);
  });

  it('serves Prometheus metrics', async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(/strategy_runner_signals_out_total\{strategy="m1"\} \d+/);
    expect(text).toMatch(/strategy_runner_strategy_errors_total\{strategy="t"\} [1-9]/);
    expect(text).toContain('strategy_runner_handler_latency_seconds_bucket{strategy="m2",le="+Inf"}');
    expect(text).toMatch(/strategy_runner_strategies\{state="rejected"\} 1/);
    // Shedding, restarts and refused updates, per strategy: what /status shows, as series.
    for (const m of ['strategy_conflated_ticks_total', 'strategy_missed_ticks_total', 'strategy_behind_episodes_total', 'config_updates_rejected_total']) {
      expect(text).toMatch(new RegExp(`^strategy_runner_${m}\\{strategy="m1"\\} 0$`, 'm'));
    }
    expect(text).toMatch(/^strategy_runner_strategy_behind_seconds\{strategy="m2"\} [\d.e-]+$/m);
    expect(text).toMatch(/^strategy_runner_strategy_config_update_rejected\{strategy="t"\} 0$/m);
  });

  const metricsText = async (): Promise<string> => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    return res.text();
  };

  it('/metrics passes `promtool check metrics` (Prometheus naming rules), default process metrics included', async () => {
    const text = await metricsText();
    // promtool comes with Debian's prometheus package; scripts/setup installs it. A machine
    // without it fails this test rather than skipping it: CI must run the check.
    const which = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' });
    expect(which.status, 'promtool not found: run `bash scripts/setup` (installs Debian\'s prometheus package) or `apt-get install prometheus`').toBe(0);
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    expect({ status: r.status, output: `${r.stdout}${r.stderr}` }).toEqual({ status: 0, output: '' });
  });

  it('/metrics puts _total on counters only, and on every counter', async () => {
    const text = await metricsText();
    const t = types(text);
    expect(t.size).toBeGreaterThan(20);
    for (const [name, type] of t) {
      expect(name.startsWith('strategy_runner_'), name).toBe(true);
      if (type === 'counter') expect(name, `${name} is a counter`).toMatch(/_total$/);
      else expect(name, `${name} is a ${type}`).not.toMatch(/_total$/);
    }
    // prom-client's own default metrics are named with our prefix (the docs name them so).
    expect(t.get('strategy_runner_process_cpu_seconds_total')).toBe('counter');
    expect(t.get('strategy_runner_nodejs_eventloop_lag_seconds')).toBe('gauge');
  });

  it('/metrics has the onTick latency as a histogram in seconds, buckets from 1 µs to 1 s', async () => {
    const text = await metricsText();
    expect(types(text).get('strategy_runner_handler_latency_seconds')).toBe('histogram');
    expect(text).not.toContain('handler_latency_us');
    const les = [...text.matchAll(/^strategy_runner_handler_latency_seconds_bucket\{strategy="m2",le="([^"]+)"\} \d+$/gm)].map((m) => m[1]!);
    expect(les[0]).toBe('0.000001');
    expect(les.at(-2)).toBe('1');
    expect(les.at(-1)).toBe('+Inf');
    const count = Number(/^strategy_runner_handler_latency_seconds_count\{strategy="m2"\} (\d+)$/m.exec(text)?.[1]);
    const sum = Number(/^strategy_runner_handler_latency_seconds_sum\{strategy="m2"\} (\S+)$/m.exec(text)?.[1]);
    expect(count).toBeGreaterThan(0);
    // seconds: far below a second per call on average
    expect(sum / count).toBeGreaterThan(0);
    expect(sum / count).toBeLessThan(0.01);
  });

  it('/metrics has strategy_runner_build_info: version, Node version and thread protocol as labels, value 1', async () => {
    const text = await metricsText();
    expect(types(text).get('strategy_runner_build_info')).toBe('gauge');
    const line = /^strategy_runner_build_info\{(.*)\} (\S+)$/m.exec(text);
    expect(line).not.toBeNull();
    expect(line![2]).toBe('1');
    expect(line![1]).toContain(`version="${VERSION}"`);
    expect(line![1]).toContain(`node_version="${process.version}"`);
    expect(line![1]).toContain(`protocol_version="${PROTOCOL_VERSION}"`);
  });

  it('restarts a strategy on an authorised operator call only', async () => {
    const post = (path: string, token?: string) =>
      fetch(`${base}${path}`, { method: 'POST', ...(token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } }) });
    expect((await post('/control/strategies/m1/restart')).status).toBe(401);
    expect((await post('/control/strategies/m1/restart', 'wrong-token-0123456789')).status).toBe(401);
    expect((await fetch(`${base}/control/strategies/m1/restart`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(405);
    expect((await post('/control/strategies/nope/restart', TOKEN)).status).toBe(404);
    const ok = await post('/control/strategies/m1/restart', TOKEN);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ strategy: 'm1', action: 'restart', state: 'running' });
    const st = (await (await fetch(`${base}/status`)).json()) as { threads: { strategies: { id: string; restarts: number; last_restart_reason: string }[] }[] };
    expect(st.threads.flatMap((t) => t.strategies).find((s) => s.id === 'm1')).toMatchObject({ restarts: 1, last_restart_reason: 'operator request' });
    // Resume only applies to a quarantined strategy.
    expect((await post('/control/strategies/m2/resume', TOKEN)).status).toBe(409);
    // A malformed path is a 400, not a crash.
    expect((await post('/control/strategies/%E0%A4%A/restart')).status).toBe(400);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('survives overlapping operator restarts of one strategy', async () => {
    const post = () => fetch(`${base}/control/strategies/m2/restart`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    const answers = await Promise.all([post(), post(), post()]);
    for (const a of answers) expect(a.status).toBe(200);
    const st = await eventually(
      'm2 running again',
      async () => ((await (await fetch(`${base}/status`)).json()) as { threads: { strategies: { id: string; state: string; restarts: number }[] }[] }).threads.flatMap((t) => t.strategies).find((x) => x.id === 'm2')!,
      (x) => x.state === 'running',
      10_000,
    );
    expect(st.restarts).toBeGreaterThanOrEqual(1);
    expect(rt.supervisor.routes.strategiesFor(2)).toContain('m2');
  });
});

describe('status server without a control token', () => {
  it('refuses operator calls', async () => {
    const config = parseServiceConfig({ status: { port: 0 } }, 'test', FIXTURES);
    const configs = parseStrategyConfigs([{ id: 'x', strategy_type: 'SimpleMomentumStrategy', instruments: [1] }], 'test');
    const rt = await startRuntime({ config, configs, logger: memoryLogger('silent').logger });
    try {
      const res = await fetch(`http://127.0.0.1:${rt.statusPort}/control/strategies/x/restart`, { method: 'POST', headers: { authorization: 'Bearer anything-at-all-here' } });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: string }).error).toContain('controlToken');
    } finally {
      await rt.close();
    }
  });
});
