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

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** # TYPE lines: metric name → type. */
function types(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1]!, m[2]!);
  return out;
}

describe('/metrics', () => {
  let rt: Runtime;
  let text: string;

  beforeAll(async () => {
    const config = parseServiceConfig({ strategyModules: ['./strategies/faulty.mjs'], status: { port: 0 }, pool: { size: 2 } }, 'test', FIXTURES);
    const configs = parseStrategyConfigs(
      [
        { id: 'm1', strategy_type: 'SimpleMomentumStrategy', instruments: [1, 2] },
        { id: 'm2', strategy_type: 'MeanReversionStrategy', instruments: [2] },
        { id: 't', strategy_type: 'Thrower', instruments: [1] },
        { id: 'bad', strategy_type: 'Nope', instruments: [1] },
      ],
      'test',
    );
    rt = await startRuntime({ config, configs, logger: memoryLogger('silent').logger });
    await runTicks(rt.supervisor, randomWalk([1, 2], 500));
    const res = await fetch(`http://127.0.0.1:${rt.statusPort}/metrics`);
    expect(res.status).toBe(200);
    text = await res.text();
  });

  afterAll(async () => {
    await rt?.close();
  });

  it('passes `promtool check metrics` (Prometheus naming rules), default process metrics included', () => {
    // promtool comes with Debian's prometheus package; scripts/setup installs it. A machine
    // without it fails this test rather than skipping it: CI must run the check.
    const which = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' });
    expect(which.status, 'promtool not found: run `bash scripts/setup` (installs Debian\'s prometheus package) or `apt-get install prometheus`').toBe(0);
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    expect({ status: r.status, output: `${r.stdout}${r.stderr}` }).toEqual({ status: 0, output: '' });
  });

  it('puts _total on counters only, and on every counter', () => {
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

  it('has the onTick latency as a histogram in seconds, buckets from 1 µs to 1 s', () => {
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

  it('has strategy_runner_build_info: version, Node version and thread protocol as labels, value 1', () => {
    expect(types(text).get('strategy_runner_build_info')).toBe('gauge');
    const line = /^strategy_runner_build_info\{(.*)\} (\S+)$/m.exec(text);
    expect(line).not.toBeNull();
    expect(line![2]).toBe('1');
    expect(line![1]).toContain(`version="${VERSION}"`);
    expect(line![1]).toContain(`node_version="${process.version}"`);
    expect(line![1]).toContain(`protocol_version="${PROTOCOL_VERSION}"`);
  });
});
