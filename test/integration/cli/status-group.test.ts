import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GroupView } from '../../../src/cli/commands/status/group-model.js';
import type { ServiceConfigInput } from '../../../src/config/service-config.js';
import type { StrategyConfigInput } from '../../../src/config/strategy-config.js';
import { shardOf } from '../../../src/routing/shard-of.js';
import { produce } from '../../helpers/infra.js';
import { CLI, eventually, serviceConfigInput, strategyDatabase, testTopics, type TestTopics } from '../../helpers/service.js';
import { shardsOf, spawnShardedRunner } from '../../helpers/sharded.js';
import { randomWalk } from '../../helpers/ticks.js';

const SHARDS = 4;
const TOKENS = [256265, 260105, 738561, 408065];

/** `strategy-runner status ...` (compiled CLI) as a child process; the environment cannot override the configuration file. */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'status', ...args], { env: { ...process.env, KAFKA_BROKERS: '', DATABASE_URL: '', STRATEGY_RUNNER_CONFIG: '' }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A configuration file of the test's deployment, as the runners have it (spawnShardedRunner's kafka settings). */
function deploymentConfig(t: TestTopics, databaseUrl: string, kafka: Record<string, unknown> = {}): string {
  const input: ServiceConfigInput = serviceConfigInput(t, databaseUrl, {
    kafka: { groupId: t.groupId, topics: { ticks: t.ticks, fills: t.fills, deadLetter: t.deadLetter, signals: t.signals }, shards: { enabled: true, count: SHARDS }, ...kafka } as never,
  });
  const file = join(mkdtempSync(join(tmpdir(), 'sr-status-group-')), 'config.json');
  writeFileSync(file, JSON.stringify(input));
  return file;
}

const cells = (line: string): string[] => line.trim().split(/\s{2,}/);

/** The rows of a section's table ("Runners (2)", "Shards (4: ...)"): the lines after its rule, up to the next blank line. */
function tableRows(out: string, title: string): string[][] {
  const lines = out.split('\n');
  const start = lines.findIndex((l) => l.startsWith(title));
  expect(start, `section ${title}`).toBeGreaterThanOrEqual(0);
  const rule = lines.findIndex((l, i) => i > start && /^\s+-+(\s+-+)*$/.test(l));
  const rows: string[][] = [];
  // Up to a blank line or the legend under the shards table.
  for (let i = rule + 1; i < lines.length && lines[i]!.trim() !== '' && !/^ {2}[a-z!]: /.test(lines[i]!); i++) rows.push(cells(lines[i]!));
  return rows;
}

describe('strategy-runner status --group', { timeout: 120_000 }, () => {
  it('shows both runners of a deployment, every shard once with its holder, position, lag and strategies; then the shards unassigned once they stop', async () => {
    const rows: StrategyConfigInput[] = [];
    for (let i = 0; i < 10; i++) rows.push({ id: `sg-${i}`, strategy_type: i % 2 === 0 ? 'SimpleMomentumStrategy' : 'MeanReversionStrategy', instruments: [TOKENS[i % TOKENS.length]!] });
    rows.push({ id: 'sg-off', strategy_type: 'SimpleMomentumStrategy', instruments: [TOKENS[0]!], is_active: false });
    const t = await testTopics(['paper'], 3);
    const db = await strategyDatabase(rows);
    await produce(t.ticks, randomWalk(TOKENS, 600, 5).map((x) => ({ key: String(x.instrument_token), value: x })));
    const runners = await Promise.all(['gs-a', 'gs-b'].map((name) => spawnShardedRunner(t, db.url, name, { count: SHARDS })));
    const held = await eventually(
      'the two runners share the shards',
      async () => Promise.all(runners.map(async (r) => (await shardsOf(r))?.held ?? [])),
      (h) => h.flat().length === SHARDS && new Set(h.flat()).size === SHARDS && h.every((x) => x.length > 0),
      60_000,
    );
    const holderOf = new Map<number, string>();
    runners.forEach((r, i) => held[i]!.forEach((s) => holderOf.set(s, r.name)));
    const expected = (shard: number): string[] => rows.filter((r) => r.is_active !== false && shardOf(r.id, SHARDS) === shard).map((r) => r.id).sort();
    const config = deploymentConfig(t, db.url);

    // Tables: both runners, each shard once with the runner that says it holds it, and its strategies.
    // (A rebalance may still be completing when both runners report their shards: read until the group is Stable.)
    const r = await eventually('the group Stable', () => cli(['--group', '--config', config]), (x) => x.code !== 0 || x.stdout.includes('   state Stable   '), 20_000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^group ${t.groupId.replace(/\./g, '\\.')} {3}state Stable {3}assignor cooperative-sticky {3}4 shards on ${t.groupId.replace(/\./g, '\\.')}\\.shards`));
    expect(r.stdout).toContain('strategies: 10 active from PostgreSQL');
    expect(r.stdout).toContain('(1 inactive)');
    const runnerRows = tableRows(r.stdout, 'Runners (2)');
    expect(runnerRows.map((c) => c[0]).sort()).toEqual(['gs-a', 'gs-b']);
    for (const row of runnerRows) {
      const i = runners.findIndex((x) => x.name === row[0]);
      expect(row[1]).toBe('127.0.0.1');
      expect(row[2]).toBe(String(held[i]!.length));
      expect(row[6]).toMatch(new RegExp(`^strategy-runner/${row[0]}-`)); // the member id starts with the client id
    }
    const shardRows = tableRows(r.stdout, `Shards (${SHARDS}: ${SHARDS} held, 0 unassigned)`);
    expect(shardRows.map((c) => c[0])).toEqual(['0', '1', '2', '3']);
    for (const row of shardRows) {
      const shard = Number(row[0]);
      expect(row[1], `shard ${shard}'s holder`).toBe(holderOf.get(shard));
      expect(row[3]).toMatch(/^0=\d+s? 1=\d+s? 2=\d+s?$/);
      expect(row[4]).toBe(String(expected(shard).length));
      expect(row[5]).toBe(expected(shard).length === 0 ? '-' : expected(shard).join(', '));
    }
    expect(r.stdout).not.toContain('sg-off');

    // --json: the same, and every shard catches up to the end of the ticks (its position stored, no lag).
    const view = await eventually(
      'every shard stored at the end of the ticks',
      async () => {
        const j = await cli(['--group', '--json', '--config', config]);
        expect(j.code, j.stderr).toBe(0);
        return JSON.parse(j.stdout) as GroupView;
      },
      (v) => v.state === 'Stable' && v.shards.every((s) => s.position === 'stored' && s.lag === 0),
      40_000,
    );
    expect(view).toMatchObject({ group: t.groupId, coordination_topic: `${t.groupId}.shards`, ticks_topic: t.ticks, shard_count: SHARDS, state: 'Stable', unassigned: [], warnings: [] });
    expect(view.runners.map((x) => x.instance).sort()).toEqual(['gs-a', 'gs-b']);
    expect(view.runners.flatMap((x) => x.shards).sort()).toEqual([0, 1, 2, 3]);
    for (const s of view.shards) {
      expect(s.runner).toBe(holderOf.get(s.shard));
      expect(s.strategies).toEqual(expected(s.shard));
      expect(s.partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
      expect(s.partitions.every((p) => p.from === 'shard' && p.next_offset === p.high_watermark)).toBe(true);
    }
    expect(view.shards[0]!.partitions.reduce((a, p) => a + p.high_watermark, 0)).toBe(600);

    // Both stop: nobody holds a shard, the positions stay.
    for (const x of runners) x.child.kill('SIGTERM');
    for (const x of runners) expect(await x.exited).toBe(0);
    const after = await cli(['--group', '--config', config]);
    expect(after.code).toBe(0);
    expect(after.stdout).toContain(`no runner in the group ${t.groupId}`);
    const unassigned = tableRows(after.stdout, `Shards (${SHARDS}: 0 held, ${SHARDS} unassigned)`);
    expect(unassigned.map((c) => [c[0], c[1], c[2]])).toEqual([0, 1, 2, 3].map((s) => [String(s), 'unassigned', '0']));
  });

  it('a deployment with no runner: the shards unassigned, from the beginning, with their strategies', async () => {
    const t = await testTopics(['paper'], 2);
    const db = await strategyDatabase([{ id: 'alone', strategy_type: 'SimpleMomentumStrategy', instruments: [TOKENS[0]!] }]);
    await produce(t.ticks, [{ key: '1', value: { instrument_token: 1, last_price: 1, timestamp: 1 } }]);
    const r = await cli(['--group', '--config', deploymentConfig(t, db.url)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Runners (0)');
    expect(r.stdout).toContain(`no runner in the group ${t.groupId}`);
    expect(r.stdout).toContain(`warning: the coordination topic ${t.groupId}.shards does not exist`);
    const shardRows = tableRows(r.stdout, `Shards (${SHARDS}: 0 held, ${SHARDS} unassigned)`);
    expect(shardRows.map((c) => c[1])).toEqual(['unassigned', 'unassigned', 'unassigned', 'unassigned']);
    const home = shardOf('alone', SHARDS);
    expect(shardRows[home]![5]).toBe('alone');
    // One tick in one of the two partitions: that shard lags by it, from the beginning ('s').
    for (const row of shardRows) expect(row[3]).toBe('0=0s 1=0s');
    expect(shardRows.every((row) => row[2] === '1')).toBe(true);

    const j = await cli(['--group', '--json', '--config', deploymentConfig(t, db.url)]);
    const view = JSON.parse(j.stdout) as GroupView;
    expect(view.runners).toEqual([]);
    expect(view.unassigned).toEqual([0, 1, 2, 3]);
    expect(view.shards[home]!.strategies).toEqual(['alone']);
  });

  it('refuses a configuration without shards, and says which brokers do not answer', async () => {
    const t = await testTopics(['paper'], 1);
    const off = await cli(['--group', '--config', deploymentConfig(t, 'postgres://nobody@127.0.0.1:1/none', { shards: { enabled: false } })]);
    expect(off.code).toBe(2);
    expect(off.stdout).toBe('');
    expect(off.stderr).toMatch(/^strategy-runner status: --group shows a sharded deployment, but kafka\.shards\.enabled is false in \S+config\.json/);
    expect(off.stderr).toContain('Usage: strategy-runner status');

    const down = await cli(['--group', '--timeout', '1', '--config', deploymentConfig(t, 'postgres://nobody@127.0.0.1:1/none', { brokers: ['127.0.0.1:1'] })]);
    expect(down.code).toBe(1);
    expect(down.stdout).toBe('');
    expect(down.stderr).toMatch(/^strategy-runner status: \[KAFKA_UNAVAILABLE\] no answer from the Kafka brokers 127\.0\.0\.1:1 within 1 s/);
    expect(down.stderr.trim().split('\n')).toHaveLength(1);

    // PostgreSQL away: the deployment is shown without the strategies, and the exit code says it.
    const noDb = await cli(['--group', '--config', deploymentConfig(t, 'postgres://nobody@127.0.0.1:1/none')]);
    expect(noDb.code).toBe(1);
    expect(noDb.stdout).toContain('strategies: unreadable from PostgreSQL postgres://nobody@127.0.0.1:1/none: [DATABASE_UNAVAILABLE]');
    expect(tableRows(noDb.stdout, `Shards (${SHARDS}: 0 held, ${SHARDS} unassigned)`).map((c) => c[4])).toEqual(['?', '?', '?', '?']);
    expect(noDb.stderr).toMatch(/^strategy-runner status: the strategy configurations could not be read \(shown without them\): \[DATABASE_UNAVAILABLE\] reading strategy configurations from PostgreSQL postgres:\/\/nobody@127\.0\.0\.1:1\/none: .*ECONNREFUSED/);

    const both = await cli(['--group', '--port', '9464']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--group reads the deployment from Kafka, not from a status server');
  });
});
