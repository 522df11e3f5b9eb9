import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { simulateCommand } from '../../../src/cli/commands/simulate/index.js';
import { DEFAULT_INSTRUMENTS } from '../../../src/sim/instruments.js';
import { randomWalkTicks } from '../../../src/sim/random-walk.js';
import { decodeTick, type Tick } from '../../../src/domain/tick.js';
import { RunnerError } from '../../../src/errors.js';
import { consumeUntil, createTopics, kafka, kafkaBrokers, unique, type Consumed } from '../../helpers/infra.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SIMULATE_JS = join(ROOT, 'dist/src/cli/commands/simulate/index.js');

/** A service configuration file that points at the test broker. */
function configFile(brokers = kafkaBrokers()): string {
  const dir = mkdtempSync(join(tmpdir(), 'sr-simulate-'));
  const path = join(dir, 'service.json');
  writeFileSync(path, JSON.stringify({ kafka: { brokers } }));
  return path;
}

/** Runs simulateCommand in this process, with stderr captured (the summary). */
async function simulate(argv: string[], signal?: AbortSignal): Promise<{ code: number; stderr: string; ms: number }> {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => (chunks.push(String(c)), true));
  const t0 = performance.now();
  try {
    const code = await simulateCommand(argv, signal === undefined ? {} : { signal });
    return { code, stderr: chunks.join(''), ms: performance.now() - t0 };
  } finally {
    spy.mockRestore();
  }
}

function summaryOf(stderr: string): { sent: number; acked: number } {
  const m = /simulate: ([\d,]+) sent, ([\d,]+) acked/.exec(stderr);
  if (m === null) throw new Error(`no summary in:\n${stderr}`);
  return { sent: Number(m[1]!.replaceAll(',', '')), acked: Number(m[2]!.replaceAll(',', '')) };
}

function decodeAll(messages: Consumed[]): Tick[] {
  return messages.map((m) => {
    const r = decodeTick(m.value);
    if (!r.ok) throw new Error(`undecodable tick ${m.value}: ${r.reason}`);
    expect(m.key).toBe(String(r.tick.instrument_token));
    return r.tick;
  });
}

/** The consumed ticks of each instrument, in partition order (one key → one partition). */
function byInstrument(ticks: Tick[]): Map<number, Tick[]> {
  const m = new Map<number, Tick[]>();
  for (const t of ticks) {
    let l = m.get(t.instrument_token);
    if (l === undefined) m.set(t.instrument_token, (l = []));
    l.push(t);
  }
  return m;
}

describe('strategy-runner simulate', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('produces the requested ticks at no more than the requested rate: keyed by token, valid, on the price grid, monotonic per instrument', async () => {
    vi.stubEnv('KAFKA_BROKERS', '');
    const topic = unique('sim-ticks');
    await createTopics([topic], 3);
    const before = Date.now();
    const r = await simulate(['--config', configFile(), '--topic', topic, '--count', '500', '--rate', '5000', '--seed', '7']);
    expect(r.code).toBe(0);
    expect(summaryOf(r.stderr)).toEqual({ sent: 500, acked: 500 });
    expect(r.stderr).toContain(`to ${topic}`);
    expect(r.stderr).toContain('seed 7');
    // 500 ticks at 5000/s take at least ~0.1 s: the pacing holds the rate down.
    expect(r.ms).toBeGreaterThanOrEqual((500 / 5000) * 1000 * 0.8);

    const messages = await consumeUntil(topic, (m) => m.length >= 500);
    expect(messages).toHaveLength(500);
    const ticks = decodeAll(messages);
    const tokens = new Set<number>(DEFAULT_INSTRUMENTS);
    for (const t of ticks) {
      expect(tokens.has(t.instrument_token)).toBe(true);
      expect(t.last_price).toBeGreaterThan(0);
      expect(Math.abs(t.last_price * 20 - Math.round(t.last_price * 20))).toBeLessThan(1e-6);
      expect(t.timestamp).toBeGreaterThanOrEqual(before);
      expect(t.timestamp).toBeLessThanOrEqual(Date.now());
      expect(t.volume).toBeGreaterThan(0);
    }
    // Per instrument: timestamps never go back, and prices and volumes are the seeded walk's.
    const expected = byInstrument(randomWalkTicks({ instruments: DEFAULT_INSTRUMENTS, seed: 7 }, 500).map((t) => ({ ...t, timestamp: 0 })));
    const got = byInstrument(ticks);
    expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [token, list] of got) {
      for (let i = 1; i < list.length; i++) expect(list[i]!.timestamp).toBeGreaterThanOrEqual(list[i - 1]!.timestamp);
      expect(list.map((t) => [t.last_price, t.volume])).toEqual(expected.get(token)!.map((t) => [t.last_price, t.volume]));
    }
  });

  it('gives the same token and price sequence for the same seed', () => {
    const o = { instruments: [256265, 260105, 738561], seed: 7 };
    const a = randomWalkTicks(o, 1000).map((t) => [t.instrument_token, t.last_price]);
    expect(randomWalkTicks(o, 1000).map((t) => [t.instrument_token, t.last_price])).toEqual(a);
    expect(randomWalkTicks({ ...o, seed: 9 }, 1000).map((t) => [t.instrument_token, t.last_price])).not.toEqual(a);
  });

  it('takes the brokers from KAFKA_BROKERS, creates a missing topic with --create-topic --partitions, and uses only the given instruments', async () => {
    vi.stubEnv('KAFKA_BROKERS', kafkaBrokers().join(','));
    const topic = unique('sim-created');
    const admin = kafka().admin();
    await admin.connect();
    try {
      const r = await simulate([
        '--config', configFile(['127.0.0.1:1']), '--topic', topic, '--create-topic', '--partitions', '2',
        '--instruments', '11,22', '--count', '50', '--rate', '1000', '--start-price', '100', '--volatility', '0.01',
      ]);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(`created topic ${topic} with 2 partitions`);
      expect(await admin.fetchTopicOffsets(topic)).toHaveLength(2);
      const ticks = decodeAll(await consumeUntil(topic, (m) => m.length >= 50));
      expect(ticks).toHaveLength(50);
      expect(new Set(ticks.map((t) => t.instrument_token))).toEqual(new Set([11, 22]));
      for (const t of ticks) expect(Math.abs(t.last_price - 100)).toBeLessThan(50);
      // An existing topic is used as it is.
      expect((await simulate(['--config', configFile(), '--topic', topic, '--create-topic', '--count', '5', '--rate', '1000'])).code).toBe(0);
    } finally {
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect();
    }
  });

  it('fails with KAFKA_TOPIC_MISSING when the topic does not exist and --create-topic is not given', async () => {
    vi.stubEnv('KAFKA_BROKERS', '');
    await expect(simulate(['--config', configFile(), '--topic', unique('sim-missing'), '--count', '5'])).rejects.toMatchObject({
      code: 'KAFKA_TOPIC_MISSING',
      message: expect.stringContaining('--create-topic'),
    });
  });

  it('fails with KAFKA_UNAVAILABLE when no broker answers', async () => {
    vi.stubEnv('KAFKA_BROKERS', '');
    const err = await simulate(['--config', configFile(['127.0.0.1:1']), '--count', '5', '--log-level', 'silent']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunnerError);
    expect(err).toMatchObject({ code: 'KAFKA_UNAVAILABLE', message: expect.stringContaining('127.0.0.1:1') });
  });

  it('runs until stopped, then waits for every sent tick to be acknowledged', async () => {
    vi.stubEnv('KAFKA_BROKERS', '');
    const topic = unique('sim-stop');
    await createTopics([topic], 2);
    const stop = new AbortController();
    const running = simulate(['--config', configFile(), '--topic', topic, '--rate', '2000', '--seed', '1'], stop.signal);
    setTimeout(() => stop.abort(), 1500);
    const r = await running;
    expect(r.code).toBe(0);
    const { sent, acked } = summaryOf(r.stderr);
    expect(acked).toBe(sent);
    expect(sent).toBeGreaterThan(200);
    expect(sent).toBeLessThanOrEqual(2000 * (r.ms / 1000) * 1.05);
    const messages = await consumeUntil(topic, (m) => m.length >= sent, 15_000);
    expect(messages).toHaveLength(sent);
  });

  it('stops cleanly on SIGINT in a separate process (compiled code), flushing what it sent', async () => {
    const topic = unique('sim-sigint');
    await createTopics([topic], 1);
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', `import { simulateCommand } from ${JSON.stringify(SIMULATE_JS)}; process.exitCode = await simulateCommand(process.argv.slice(1));`,
        '--', '--topic', topic, '--rate', '1000', '--log-level', 'info'],
      { cwd: ROOT, env: { ...process.env, KAFKA_BROKERS: kafkaBrokers().join(',') }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`producer never connected:\n${stderr}`)), 20_000);
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('Producer connected')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await new Promise((r) => setTimeout(r, 700));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const { sent, acked } = summaryOf(stderr);
    expect(sent).toBeGreaterThan(0);
    expect(acked).toBe(sent);
    expect(await consumeUntil(topic, (m) => m.length >= sent, 15_000)).toHaveLength(sent);
  });
});
