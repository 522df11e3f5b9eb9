/**
 * The tick flow of one phase of the exactly-once benchmark: the latency
 * benchmark's load generator (bench/lib/latency-loadgen.ts) forked as a
 * child process, so that its pacing shares an event loop with neither the
 * runner nor the signal reader. It produces `count` ticks at `rate` per
 * second on an absolute schedule from `t0`, each stamped with its scheduled
 * send time, keyed by instrument token.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadgenConfig, LoadgenDone } from './latency-loadgen.js';

const LOADGEN = join(dirname(fileURLToPath(import.meta.url)), 'latency-loadgen.js');

export class TickLoad {
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;
  readonly #messages: Record<string, unknown>[] = [];
  #onMessage: (() => void) | undefined;

  private constructor() {
    this.#child = fork(LOADGEN, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#exited = new Promise((resolve) => this.#child.on('exit', (code) => resolve(code)));
    this.#child.on('message', (m) => {
      this.#messages.push(m as Record<string, unknown>);
      this.#onMessage?.();
    });
  }

  /** Fork the generator and resolve once its producer is connected (the clock has not started). */
  static async prepare(o: Omit<LoadgenConfig, 't'>): Promise<TickLoad> {
    const load = new TickLoad();
    try {
      load.#child.send({ t: 'config', ...o } satisfies LoadgenConfig);
      const ready = await load.#next();
      if (ready['t'] !== 'ready') throw new Error(`load generator: ${String((ready as unknown as LoadgenDone).error ?? JSON.stringify(ready))}`);
      return load;
    } catch (err) {
      load.#child.kill('SIGKILL');
      throw err;
    }
  }

  /** the generator's process id (its CPU time is read from /proc) */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Start the schedule at `t0` (epoch ms). */
  start(t0: number): void {
    this.#child.send({ t: 'start', t0 });
  }

  /** Every tick sent and acknowledged (or failed); the generator exits after. */
  async done(): Promise<LoadgenDone> {
    const done = (await this.#next()) as unknown as LoadgenDone;
    if (done.error !== undefined) throw new Error(`load generator: ${done.error}`);
    return done;
  }

  /** Wait for the process to be gone (SIGKILL after `graceMs`). */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(timer);
  }

  async #next(): Promise<Record<string, unknown>> {
    while (this.#messages.length === 0) {
      await Promise.race([new Promise<void>((r) => (this.#onMessage = r)), this.#exited.then((code) => Promise.reject(new Error(`load generator exited (${code})`)))]);
    }
    return this.#messages.shift()!;
  }
}
