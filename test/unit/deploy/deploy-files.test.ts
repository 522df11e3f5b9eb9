import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyEnvironment, parseServiceConfig, type ServiceConfig } from '../../../src/config/service-config.js';
import { EXIT_CODES } from '../../../src/errors.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DEPLOY = join(ROOT, 'deploy');
const UNIT_FILE = join(DEPLOY, 'strategy-runner.service');
const ECOSYSTEM_FILE = join(DEPLOY, 'ecosystem.config.cjs');
const EXAMPLE_FILE = join(DEPLOY, 'config.example.json');

// ------------------------------------------------------------ a small systemd unit parser

type Unit = Map<string, Map<string, string[]>>;

/**
 * systemd.syntax(7), as far as the unit needs: [Section] headers, Key=Value
 * (whitespace around "=" ignored), # and ; comments, a trailing backslash
 * joins the next line (replaced by a space), repeated keys accumulate.
 */
function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) {
      line = `${line.slice(0, -1)} ${lines[++i]!.trim()}`;
    }
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      section = unit.get(header[1]!) ?? new Map<string, string[]>();
      unit.set(header[1]!, section);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`line ${i + 1}: not a key=value line: ${line}`);
    if (section === undefined) throw new Error(`line ${i + 1}: key outside a section: ${line}`);
    const key = line.slice(0, eq).trim();
    const values = section.get(key) ?? [];
    values.push(line.slice(eq + 1).trim());
    section.set(key, values);
  }
  return unit;
}

/** The words of an Exec*= line as systemd splits them: double/single quotes, C escapes in double quotes. */
function execWords(value: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < value.length) {
    while (value[i] === ' ' || value[i] === '\t') i++;
    if (i >= value.length) break;
    let word = '';
    const q = value[i];
    if (q === '"' || q === "'") {
      i++;
      while (i < value.length && value[i] !== q) {
        if (value[i] === '\\' && i + 1 < value.length) {
          const c = value[++i]!;
          word += ({ n: '\n', t: '\t', '\\': '\\', '"': '"', "'": "'" } as Record<string, string>)[c] ?? c;
        } else {
          word += value[i];
        }
        i++;
      }
      if (value[i] !== q) throw new Error(`unbalanced quoting: ${value}`);
      i++;
    } else {
      while (i < value.length && value[i] !== ' ' && value[i] !== '\t') word += value[i++];
    }
    words.push(word);
  }
  return words;
}

/** A systemd time span ("45s", "45", "1min 30s", "500ms") in seconds. */
function timeSpanS(v: string): number {
  const units: Record<string, number> = { us: 1e-6, ms: 1e-3, s: 1, sec: 1, m: 60, min: 60, h: 3600, hr: 3600 };
  let total = 0;
  for (const part of v.trim().split(/\s+/)) {
    const m = /^(\d+(?:\.\d+)?)([a-z]*)$/.exec(part);
    if (m === null || (m[2] !== '' && units[m[2]!] === undefined)) throw new Error(`not a time span: ${v}`);
    total += Number(m[1]) * (m[2] === '' ? 1 : units[m[2]!]!);
  }
  return total;
}

const unit = parseUnit(readFileSync(UNIT_FILE, 'utf8'));
const one = (section: string, key: string): string => {
  const v = unit.get(section)?.get(key);
  if (v === undefined || v.length !== 1) throw new Error(`[${section}] ${key}: expected exactly one value, got ${JSON.stringify(v)}`);
  return v[0]!;
};
const service = (key: string): string => one('Service', key);

const exampleDoc: unknown = JSON.parse(readFileSync(EXAMPLE_FILE, 'utf8'));
const example: ServiceConfig = parseServiceConfig(exampleDoc, EXAMPLE_FILE, '/etc/strategy-runner');

interface PmApp {
  name: string;
  script: string;
  args: string[] | string;
  cwd: string;
  exec_mode: string;
  instances: number;
  wait_ready: boolean;
  listen_timeout: number;
  kill_timeout: number;
  autorestart: boolean;
  stop_exit_codes?: number[];
  max_memory_restart: string | number;
  min_uptime: string | number;
  max_restarts: number;
  exp_backoff_restart_delay: number;
  env: Record<string, string>;
  merge_logs: boolean;
}
const ecosystem = createRequire(import.meta.url)(ECOSYSTEM_FILE) as { apps: PmApp[] };

// ------------------------------------------------------------ tests

describe('deploy/config.example.json', () => {
  it('is a valid service configuration: strategies from PostgreSQL, status on 127.0.0.1:9464, production pool and shutdown settings', () => {
    expect(example.strategies.source).toBe('postgres');
    expect(example.status).toMatchObject({ host: '127.0.0.1', port: 9464 });
    expect(example.pool.size).toBeNull();
    expect(example.pool.maxHeapMb).toBe(256);
    expect(example.shutdown.deadlineMs).toBe(10_000);
    expect(example.log).toMatchObject({ level: 'info', format: 'json' });
    expect(example.kafka.brokers.length).toBeGreaterThan(0);
    expect(example.kafka.createTopics.enabled).toBe(false);
    // The database URL comes from the environment file (DATABASE_URL), not the file.
    expect(example.postgres.url).toBeNull();
  });

  it('takes KAFKA_BROKERS and DATABASE_URL from the environment, as /etc/strategy-runner/env provides them', () => {
    const c = applyEnvironment(example, { KAFKA_BROKERS: 'k1:9092, k2:9092', DATABASE_URL: 'postgres://runner@db:5432/trading' });
    expect(c.kafka.brokers).toEqual(['k1:9092', 'k2:9092']);
    expect(c.postgres.url).toBe('postgres://runner@db:5432/trading');
    expect(c.status.port).toBe(9464);
  });
});

describe('deploy/strategy-runner.service', () => {
  it('runs the compiled CLI: `run --config /etc/strategy-runner/config.json`, as strategy-runner, from /opt/strategy-runner', () => {
    expect(['simple', 'exec']).toContain(service('Type'));
    const words = execWords(service('ExecStart'));
    expect(words.slice(0, 2)).toEqual(['/usr/bin/env', 'node']);
    const workingDirectory = service('WorkingDirectory');
    expect(words[2]).toBe(join(workingDirectory, 'dist/src/cli/main.js'));
    expect(words.slice(3)).toEqual(['run', '--config', '/etc/strategy-runner/config.json']);
    // The script the unit starts is what the build produces (global set-up builds dist/).
    expect(existsSync(join(ROOT, 'dist/src/cli/main.js'))).toBe(true);
    expect(service('User')).toBe('strategy-runner');
    expect(service('Group')).toBe('strategy-runner');
    expect(service('EnvironmentFile')).toBe('-/etc/strategy-runner/env');
    expect(service('StandardOutput')).toBe('journal');
  });

  it('restarts on failure only (exit 0 is a clean stop), with a start limit', () => {
    expect(service('Restart')).toBe('on-failure');
    expect(timeSpanS(service('RestartSec'))).toBe(2);
    expect(service('RestartPreventExitStatus').split(/\s+/)).toContain('2');
  });

  it('does not restart after a configuration error (exit 78, EX_CONFIG): a typo must not become a restart loop', () => {
    expect(EXIT_CODES.config).toBe(78);
    expect(service('RestartPreventExitStatus').split(/\s+/).sort()).toEqual([String(EXIT_CODES.usage), String(EXIT_CODES.config)].sort());
    expect(timeSpanS(one('Unit', 'StartLimitIntervalSec'))).toBeGreaterThan(0);
    expect(Number(one('Unit', 'StartLimitBurst'))).toBeGreaterThan(1);
  });

  it('stops with SIGTERM and waits well past the shutdown deadline before SIGKILL', () => {
    expect(service('KillSignal')).toBe('SIGTERM');
    const stopS = timeSpanS(service('TimeoutStopSec'));
    const deadlineS = example.shutdown.deadlineMs / 1000;
    expect(stopS).toBeGreaterThan(deadlineS);
    // shutdown.deadlineMs bounds each phase (pipeline drain, thread drain, onStop), not their sum.
    expect(stopS).toBeGreaterThanOrEqual(3 * deadlineS);
  });

  it('has a process-wide memory backstop, a file limit and the hardening options; no sd_notify', () => {
    expect(service('MemoryMax')).toMatch(/^\d+[KMGT]?$/);
    expect(Number(service('LimitNOFILE'))).toBeGreaterThanOrEqual(65_536);
    expect(service('NoNewPrivileges')).toBe('yes');
    expect(service('ProtectSystem')).toBe('strict');
    expect(service('ProtectHome')).toBe('yes');
    expect(service('PrivateTmp')).toBe('yes');
    expect(service('StateDirectory')).toBe('strategy-runner');
    const keys = unit.get('Service')!;
    // V8's JIT needs writable+executable memory.
    expect(keys.get('MemoryDenyWriteExecute') ?? []).not.toContain('yes');
    // No sd_notify: neither Type=notify nor a watchdog the runner would never feed.
    expect(keys.has('WatchdogSec')).toBe(false);
    expect(keys.has('NotifyAccess')).toBe(false);
    expect(one('Install', 'WantedBy')).toBe('multi-user.target');
  });

  describe('readiness poll (ExecStartPost)', () => {
    const words = execWords(service('ExecStartPost'));
    const script = words[3] ?? '';
    let server: Server;
    let answers: number[] = [];
    let port = 0;

    beforeAll(async () => {
      server = createServer((req, res) => {
        const code = req.url === '/readyz' ? (answers.shift() ?? 503) : 404;
        res.writeHead(code).end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    /** Run the unit's poll script against the test server, with the URL (and optionally its bound) replaced. */
    const runPoll = (limitMs?: number): Promise<{ code: number | null; stderr: string; ms: number }> => {
      let s = script.replace(`http://${example.status.host}:${example.status.port}/readyz`, `http://127.0.0.1:${port}/readyz`);
      if (limitMs !== undefined) s = s.replace(/limitMs = \d+/, `limitMs = ${limitMs}`);
      expect(s).not.toBe(script);
      const t0 = Date.now();
      const child = spawn(process.execPath, ['-e', s], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr, ms: Date.now() - t0 })));
    };

    it('is `node -e` polling the status endpoint of config.example.json, bounded below TimeoutStartSec', () => {
      expect(words.slice(0, 3)).toEqual(['/usr/bin/env', 'node', '-e']);
      expect(words).toHaveLength(4);
      expect(script).toContain(`'http://${example.status.host}:${example.status.port}/readyz'`);
      // systemd would expand these inside the command line.
      expect(script).not.toMatch(/[$%]/);
      const limit = /limitMs = (\d+)/.exec(script);
      expect(limit).not.toBeNull();
      expect(Number(limit![1])).toBeLessThan(timeSpanS(service('TimeoutStartSec')) * 1000);
    });

    it('exits 0 as soon as /readyz answers 200', async () => {
      answers = [503, 503, 200];
      const r = await runPoll();
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.ms).toBeLessThan(10_000);
    });

    it('exits 1 with a message when /readyz never answers 200 within its bound', async () => {
      answers = [];
      const r = await runPoll(1500);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('not ready after 1.5 s');
    });
  });

  it('passes `systemd-analyze verify` without warnings', (ctx) => {
    // Skipped only where the binary does not exist (a machine without systemd);
    // on a machine that has it, any warning or error fails the test.
    const which = spawnSync('sh', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' });
    if (which.status !== 0) ctx.skip();
    const dir = mkdtempSync(join(tmpdir(), 'sr-unit-'));
    copyFileSync(UNIT_FILE, join(dir, 'strategy-runner.service'));
    const r = spawnSync('systemd-analyze', ['verify', join(dir, 'strategy-runner.service')], { encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    const output = `${r.stdout}${r.stderr}`;
    expect({ status: r.status, output }).toEqual({ status: 0, output: '' });
  });

  it("this test's parser handles continuations, repeated keys, quoting and time spans", () => {
    const bad = parseUnit('[Service]\nExecStart=/usr/bin/env node -e "a \\\n  b"\nEnvironment=A=1\nEnvironment=B=2\n');
    expect(bad.get('Service')!.get('Environment')).toEqual(['A=1', 'B=2']);
    expect(execWords(bad.get('Service')!.get('ExecStart')![0]!)).toEqual(['/usr/bin/env', 'node', '-e', 'a  b']);
    expect(() => execWords('node -e "unterminated')).toThrow(/unbalanced/);
    expect(timeSpanS('1min 30s')).toBe(90);
  });
});

describe('deploy/ecosystem.config.cjs (pm2)', () => {
  const app = ecosystem.apps[0]!;
  const args = Array.isArray(app.args) ? app.args : app.args.split(/\s+/);

  it('is one app, one process in fork mode, running the compiled CLI with `run --config`', () => {
    expect(ecosystem.apps).toHaveLength(1);
    expect(app.name).toBe('strategy-runner');
    expect(app.exec_mode).toBe('fork');
    expect(app.instances).toBe(1);
    expect(app.script).toBe('dist/src/cli/main.js');
    // pm2 resolves script against cwd; the same install directory as the systemd unit.
    expect(app.cwd).toBe(service('WorkingDirectory'));
    expect(existsSync(join(ROOT, app.script))).toBe(true);
    expect(args[0]).toBe('run');
    expect(args.slice(1)).toEqual(['--config', '/etc/strategy-runner/config.json']);
  });

  it('waits for process.send("ready") and gives start-up as long as systemd does', () => {
    expect(app.wait_ready).toBe(true);
    expect(app.listen_timeout).toBeGreaterThanOrEqual(timeSpanS(service('TimeoutStartSec')) * 1000 - 30_000);
  });

  it('waits past the shutdown deadline before SIGKILL (pm2 default: 1.6 s), as the systemd unit does', () => {
    expect(app.kill_timeout).toBeGreaterThan(example.shutdown.deadlineMs);
    expect(app.kill_timeout).toBe(timeSpanS(service('TimeoutStopSec')) * 1000);
  });

  it('restarts after failures with back-off, including deaths by signal; has a memory backstop', () => {
    expect(app.autorestart).toBe(true);
    // pm2 reports a death by signal (OOM kill, SIGSEGV) as exit code 0: stop_exit_codes [0] would leave it down.
    expect(app.stop_exit_codes ?? []).not.toContain(0);
    // A configuration error (exit 78) or a usage error (exit 2) stays down: restarting cannot mend it.
    expect([...(app.stop_exit_codes ?? [])].sort()).toEqual([EXIT_CODES.usage, EXIT_CODES.config].sort());
    expect(app.exp_backoff_restart_delay).toBeGreaterThan(0);
    expect(app.max_restarts).toBeGreaterThan(0);
    expect(app.min_uptime).toBeDefined();
    expect(String(app.max_memory_restart)).toMatch(/^\d+[KMG]$/);
    expect(app.env['NODE_ENV']).toBe('production');
    expect(app.merge_logs).toBe(true);
  });

  it('loads in a plain CommonJS require (how pm2 reads it), with no environment file present', () => {
    const out = execFileSync(process.execPath, ['-e', `console.log(JSON.stringify(require(${JSON.stringify(ECOSYSTEM_FILE)}).apps[0].env))`], { encoding: 'utf8' });
    expect(JSON.parse(out)).toMatchObject({ NODE_ENV: 'production' });
  });
});
