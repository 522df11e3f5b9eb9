import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PrivateBroker } from '../../../helpers/private-broker.js';
import { CLI } from '../../../helpers/service.js';

/**
 * The runner's first start against a broker that has just started and a
 * consumer group that does not exist yet: the group coordinator is still
 * loading and answers NOT_COORDINATOR. An admin-client OffsetFetch
 * (`admin.fetchOffsets`) then dereferences a NULL consumer group inside
 * librdkafka (confluent-kafka-javascript #374, librdkafka #5040) and the whole
 * process dies with SIGSEGV, about one first start in four. Every start here
 * is against a fresh broker (a new cluster) and a new group; any exit before
 * ready, or within a moment after, fails the test.
 */
const RUNS = Number(process.env['FIRST_START_RUNS'] ?? 20);

interface Outcome {
  run: number;
  ready: boolean;
  code: number | null;
  signal: NodeJS.Signals | null;
  tail: string;
}

async function firstStart(run: number): Promise<Outcome> {
  const broker = await PrivateBroker.start();
  const dir = mkdtempSync(join(tmpdir(), 'sr-first-'));
  writeFileSync(join(dir, 'strategies.json'), JSON.stringify([{ id: 'm', strategy_type: 'SimpleMomentumStrategy', instruments: [1], parameters: { lookback_period: 3 } }]));
  const p = `fs${run}`;
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      strategies: { source: 'file', file: 'strategies.json', watch: false },
      status: { port: 0 },
      log: { level: 'info', format: 'json' },
      kafka: {
        brokers: [broker.brokers],
        groupId: `${p}.runner`,
        topics: { ticks: `${p}.ticks`, fills: `${p}.fills`, deadLetter: `${p}.dlq`, signals: `${p}.{broker}.signals` },
        createTopics: { enabled: true, partitions: 3, replicationFactor: 1 },
      },
    }),
  );
  const child = spawn(process.execPath, [CLI, 'run', '--config', join(dir, 'config.json')], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KAFKA_BROKERS: '', DATABASE_URL: '' } });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let port: number | undefined;
  const deadline = Date.now() + 60_000;
  let ready = false;
  let ended: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void exited.then((e) => (ended = e));
  while (ended === undefined && Date.now() < deadline) {
    port ??= Number(/"port":(\d+),"msg":"status server listening"/.exec(out)?.[1] ?? NaN) || undefined;
    if (port !== undefined) {
      const s = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status).catch(() => 0);
      if (s === 200) {
        ready = true;
        break;
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  // A crash can also come just after readiness: give it a moment.
  if (ready) await Promise.race([exited, new Promise((r) => setTimeout(r, 1000))]);
  const crashed = ended !== undefined;
  if (!crashed) child.kill('SIGTERM');
  const e = await exited;
  broker.stop();
  return { run, ready: ready && !crashed, code: e.code, signal: crashed ? e.signal : null, tail: crashed || !ready ? out.slice(-3000) : '' };
}

describe('first start against a fresh broker and a new consumer group', () => {
  it(`starts ${RUNS} times out of ${RUNS} without a crash`, { timeout: RUNS * 60_000 }, async () => {
    const outcomes: Outcome[] = [];
    for (let i = 0; i < RUNS; i++) outcomes.push(await firstStart(i));
    const bad = outcomes.filter((o) => !o.ready || o.code !== 0);
    expect(bad.map((o) => ({ run: o.run, code: o.code, signal: o.signal, tail: o.tail }))).toEqual([]);
  });
});
