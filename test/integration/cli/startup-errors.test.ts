import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../../helpers/cli.js';
import { databaseUrl, freshSchema } from '../../helpers/infra.js';


/** The compiled CLI with no broker, database or configuration from the environment. */
const cli = (args: string[]) => runCli(args, { isolated: true, timeoutMs: 60_000 });

const dir = mkdtempSync(join(tmpdir(), 'sr-startup-'));
const missing = join(dir, 'missing.json');
const notJson = join(dir, 'not-json.json');
const invalid = join(dir, 'invalid.json');
writeFileSync(notJson, '{ "pool": { "size": 2 }');
writeFileSync(invalid, JSON.stringify({ pool: { sise: 2 } }));
const strategies = join(ROOT, 'samples/strategies.json');
const ticks = join(ROOT, 'samples/ticks.jsonl');

/** What an operator must see: one line, the command, the code and the message; no stack. */
function expectOneLine(stderr: string, command: string, code: string, text: string): void {
  const lines = stderr.split('\n').filter((l) => l !== '');
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toContain(`strategy-runner ${command}: [${code}] `);
  expect(lines[0]).toContain(text);
  expect(stderr).not.toMatch(/^\s+at /m);
}

describe('a configuration error at start: one readable line and exit 78 (EX_CONFIG), so no supervisor restarts it', { timeout: 120_000 }, () => {
  const cases: { what: string; file: string; code: string; text: string }[] = [
    { what: 'a missing file', file: missing, code: 'CONFIG_FILE_UNREADABLE', text: `cannot read service configuration ${missing}` },
    { what: 'a file that is not JSON', file: notJson, code: 'CONFIG_FILE_UNREADABLE', text: notJson },
    { what: 'an invalid configuration', file: invalid, code: 'CONFIG_INVALID', text: "pool: unknown key 'sise' (did you mean 'size'?)" },
  ];
  const commands: { command: string; args: string[] }[] = [
    { command: 'run', args: ['run'] },
    { command: 'replay', args: ['replay', '--ticks', ticks, '--strategies', strategies] },
    { command: 'migrate', args: ['migrate'] },
    { command: 'strategies', args: ['strategies'] },
  ];
  for (const c of cases) {
    it(`${c.what}: run, replay, migrate and strategies`, async () => {
      const results = await Promise.all(commands.map((cmd) => cli([...cmd.args, '--config', c.file])));
      results.forEach((r, i) => {
        expect(r.code, `${commands[i]!.command}: ${r.stderr}`).toBe(78);
        expectOneLine(r.stderr, commands[i]!.command, c.code, c.text);
      });
    });
  }

  it('run: a strategies file that cannot be read, found while the service starts; the log line holds the message once, without a stack', async () => {
    const r = await cli(['run', '--strategies', missing]);
    expect(r.code, r.stderr).toBe(78);
    expectOneLine(r.stderr, 'run', 'CONFIG_FILE_UNREADABLE', `cannot read strategies file ${missing}`);
    const fatal = r.stdout.split('\n').filter((l) => l.includes('"level":"fatal"'));
    expect(fatal).toHaveLength(1);
    const record = JSON.parse(fatal[0]!) as Record<string, unknown>;
    expect(record).toMatchObject({ code: 'CONFIG_FILE_UNREADABLE', msg: expect.stringContaining(`cannot read strategies file ${missing}`) });
    expect(fatal[0]).not.toContain('"stack"');
    expect(fatal[0]!.split(`cannot read strategies file ${missing}`)).toHaveLength(2);
  });

  it('replay: a strategies file that cannot be read', async () => {
    const r = await cli(['replay', '--ticks', ticks, '--strategies', missing]);
    expect(r.code, r.stderr).toBe(78);
    expectOneLine(r.stderr, 'replay', 'CONFIG_FILE_UNREADABLE', `cannot read strategies file ${missing}`);
  });

  it('migrate: no database configured', async () => {
    const r = await cli(['migrate']);
    expect(r.code, r.stderr).toBe(78);
    expectOneLine(r.stderr, 'migrate', 'CONFIG_INVALID', 'no database');
  });

  it('strategies: a strategy module that cannot be loaded', async () => {
    const cfg = join(dir, 'bad-module.json');
    writeFileSync(cfg, JSON.stringify({ strategyModules: ['./no-such-module.mjs'] }));
    const r = await cli(['strategies', '--config', cfg]);
    expect(r.code, r.stderr).toBe(78);
    expectOneLine(r.stderr, 'strategies', 'STRATEGY_MODULE_LOAD_FAILED', "strategy module './no-such-module.mjs' could not be loaded");
  });

  it('run: a database without the runner\'s table (migrate not run), or no such database: a configuration error, not an outage retried forever', async () => {
    const { url } = await freshSchema();
    const cfg = join(dir, 'unmigrated.json');
    writeFileSync(cfg, JSON.stringify({ postgres: { url } }));
    const r = await cli(['run', '--config', cfg]);
    expect(r.code, r.stderr).toBe(78);
    expectOneLine(r.stderr, 'run', 'DATABASE_SCHEMA_MISSING', "run 'strategy-runner migrate' against this database");
    const noDb = new URL(databaseUrl());
    noDb.pathname = '/sr_no_such_database';
    writeFileSync(cfg, JSON.stringify({ postgres: { url: noDb.toString() } }));
    const r2 = await cli(['run', '--config', cfg]);
    expect(r2.code, r2.stderr).toBe(78);
    expectOneLine(r2.stderr, 'run', 'DATABASE_SCHEMA_MISSING', 'sr_no_such_database');
  });

  it('other errors keep exit 1 (a restart may help) and usage errors exit 2', async () => {
    const r = await cli(['replay', '--ticks', join(dir, 'no-ticks.jsonl'), '--strategies', strategies]);
    expect(r.code).toBe(1);
    expectOneLine(r.stderr, 'replay', 'INPUT_UNREADABLE', 'no-ticks.jsonl');
    expect((await cli(['replay', '--tick', 'x'])).code).toBe(2);
  });
});
