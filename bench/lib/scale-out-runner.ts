/**
 * One `strategy-runner run` process for the scale-out benchmark: the built
 * CLI (dist/src/cli/main.js) started with a configuration file, its status
 * port read from its first log lines, its /status polled, its CPU time read
 * from /proc, its shard ownership changes read from its log. Every line the
 * process writes is kept in a log file beside its configuration (the run's
 * directory), for a run that went wrong.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, writeFileSync, type WriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServiceConfigInput } from '../../src/config/service-config.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** dist/bench/lib → dist/src/cli/main.js */
export const CLI = join(HERE, '..', '..', 'src', 'cli', 'main.js');

/** Clock ticks per second of /proc/PID/stat's utime and stime. */
const CLK_TCK = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** The whole host's CPU time so far (/proc/stat, every core), ms: busy (not idle, not waiting for I/O) and total. */
export function hostCpuMs(): { busy: number; total: number } {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already in user)
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = f[3]! + f[4]!;
    return { busy: ((total - idle) * 1000) / CLK_TCK, total: (total * 1000) / CLK_TCK };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/** What the benchmark reads of a runner's /status. */
export interface RunnerStatus {
  /** the supervisor's totals, at the top level of /status (conflated_ticks, dropped_ticks, …) */
  totals?: Record<string, number>;
  consumer?: { state: string; fetch?: { messages: number }; counters: Record<string, number> };
  shards?: {
    instance: string;
    held: number[];
    shards: { shard: number; state: string; lag: number; signals: number; strategies: string[]; partitions: { partition: number; delivered_offset: number }[] }[];
    counters: Record<string, number>;
  };
}

/** A shard ownership change, from a runner's log (`shards acquired` / `released` / `lost ...`). */
export interface OwnershipEvent {
  runner: string;
  kind: 'acquired' | 'released' | 'lost';
  shards: number[];
  /** epoch ms, the runner's own clock (the same host) */
  at: number;
}

export class RunnerProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** epoch ms when the process was spawned */
  readonly spawnedAt: number;
  /** epoch ms when the status server listened (the process is up; not yet in the group) */
  listeningAt = 0;
  /** epoch ms of its `joining the deployment` log line (topics checked, portfolios rebuilt, the coordinator subscribed) */
  joinedAt = 0;
  port = 0;
  exitedAt = 0;
  exit: { code: number | null; signal: string | null } | undefined;
  readonly exited: Promise<void>;
  readonly logFile: string;
  readonly #events: OwnershipEvent[] = [];
  readonly #problems: string[] = [];
  readonly #log: WriteStream;
  #tail = '';

  private constructor(name: string, config: ServiceConfigInput, dir: string) {
    this.name = name;
    const cfg = join(dir, `${name}.config.json`);
    this.logFile = join(dir, `${name}.log`);
    writeFileSync(cfg, JSON.stringify(config, null, 2));
    this.#log = createWriteStream(this.logFile);
    this.spawnedAt = Date.now();
    // KAFKA_BROKERS and DATABASE_URL would override the file: the configuration is the benchmark's alone.
    this.child = spawn(process.execPath, [CLI, 'run', '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KAFKA_BROKERS: '', DATABASE_URL: '' } });
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code, signal) => {
        this.exitedAt = Date.now();
        this.exit = { code, signal };
        resolve();
      }),
    );
    let partial = '';
    this.child.stdout!.on('data', (d: Buffer) => {
      this.#log.write(d);
      const text = partial + d.toString('utf8');
      const lines = text.split('\n');
      partial = lines.pop()!;
      for (const line of lines) this.#line(line);
    });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.#log.write(d);
      this.#keepTail(d.toString('utf8'));
    });
  }

  /** Spawn the runner; resolves once its status server listens (within `timeoutMs`). */
  static async start(name: string, config: ServiceConfigInput, dir: string, timeoutMs = 60_000): Promise<RunnerProcess> {
    const r = new RunnerProcess(name, config, dir);
    const deadline = Date.now() + timeoutMs;
    while (r.port === 0) {
      if (r.exit !== undefined) throw new Error(`runner ${name} exited (${r.exit.code ?? r.exit.signal}) before it listened\n${r.tail()}`);
      if (Date.now() > deadline) {
        r.child.kill('SIGKILL');
        throw new Error(`runner ${name} did not listen within ${timeoutMs / 1000} s\n${r.tail()}`);
      }
      await new Promise((res) => setTimeout(res, 20));
    }
    return r;
  }

  #keepTail(s: string): void {
    this.#tail = (this.#tail + s).slice(-6000);
  }

  #line(line: string): void {
    this.#keepTail(line + '\n');
    if (this.port === 0) {
      const m = /"port":(\d+),"msg":"status server listening"/.exec(line);
      if (m !== null) {
        this.port = Number(m[1]);
        this.listeningAt = Date.now();
      }
    }
    if (/"level":("error"|"fatal"|50|60)/.test(line)) this.#problems.push(line.slice(0, 2000));
    const joined = line.includes('"msg":"joining the deployment');
    if (!joined && !line.includes('"msg":"shards ')) return;
    let rec: { msg: string; time: string | number; shards?: number[] };
    try {
      rec = JSON.parse(line) as typeof rec;
    } catch {
      return;
    }
    if (joined) {
      this.joinedAt = typeof rec.time === 'number' ? rec.time : Date.parse(rec.time);
      return;
    }
    const kind = rec.msg === 'shards acquired' ? 'acquired' : rec.msg === 'shards released' ? 'released' : rec.msg.startsWith('shards lost') ? 'lost' : undefined;
    if (kind === undefined || !Array.isArray(rec.shards)) return;
    this.#events.push({ runner: this.name, kind, shards: rec.shards, at: typeof rec.time === 'number' ? rec.time : Date.parse(rec.time) });
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Ownership changes logged so far. */
  events(): readonly OwnershipEvent[] {
    return this.#events;
  }

  /** Error and fatal log lines so far. */
  problems(): readonly string[] {
    return this.#problems;
  }

  tail(): string {
    return this.#tail;
  }

  /** /status, or undefined when the runner does not answer within `timeoutMs`. */
  async status(timeoutMs = 1000): Promise<RunnerStatus | undefined> {
    if (!this.alive || this.port === 0) return undefined;
    try {
      const res = await fetch(`http://127.0.0.1:${this.port}/status`, { signal: AbortSignal.timeout(timeoutMs) });
      return (await res.json()) as RunnerStatus;
    } catch {
      return undefined;
    }
  }

  /** The process's CPU time so far (user + system, every thread), ms; undefined once it is gone. */
  cpuMs(): number | undefined {
    try {
      const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
      // The command name (field 2) is in parentheses and may hold spaces: count from the last ')'.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields 14 and 15 (utime, stime) are the 12th and 13th after the name
      return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
    } catch {
      return undefined;
    }
  }

  kill(signal: NodeJS.Signals): void {
    if (this.alive) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  async stop(graceMs = 20_000): Promise<void> {
    if (!this.alive) return this.closeLog();
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
    await this.closeLog();
  }

  closeLog(): Promise<void> {
    return new Promise((resolve) => (this.#log.closed ? resolve() : this.#log.end(resolve)));
  }
}
