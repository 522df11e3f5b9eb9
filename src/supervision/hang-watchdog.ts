import { RunnerError } from '../errors.js';
import type { SupervisorContext } from './supervisor-context.js';
import type { WorkerHost } from './worker-host.js';

/**
 * The hang watchdog: a ready thread silent for longer than hangTimeoutMs is
 * hung; it is terminated (the failure path replaces it). Runs every
 * hangTimeoutMs / 4 (between 100 ms and 1 s), only while the supervisor runs.
 */
export class HangWatchdog {
  readonly #ctx: SupervisorContext;
  readonly #hosts: () => readonly (WorkerHost | undefined)[];
  #timer: NodeJS.Timeout | undefined;
  readonly intervalMs: number;
  /** when the watchdog last ran */
  #lastRun = 0;
  /** the last run was skipped as late (the next one judges, late or not) */
  #skipped = false;

  constructor(ctx: SupervisorContext, hosts: () => readonly (WorkerHost | undefined)[]) {
    this.#ctx = ctx;
    this.#hosts = hosts;
    this.intervalMs = Math.max(100, Math.min(1000, ctx.sup.hangTimeoutMs / 4));
  }

  get running(): boolean {
    return this.#timer !== undefined;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#lastRun = Date.now();
    this.#timer = setInterval(() => this.check(), this.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One run (the timer's; tests may call it). */
  check(now = Date.now()): void {
    if (!this.#ctx.life.is('running')) return;
    const sinceLast = now - this.#lastRun;
    this.#lastRun = now;
    // Late: this (the main) thread was held up itself (a GC pause, a busy
    // machine). What the threads said meanwhile still waits in their ports,
    // behind this timer: judge them at the next run, once it has been read.
    // Once only: under a main thread that is late every time, a hung thread
    // must still be judged.
    const late = sinceLast > 2 * this.intervalMs;
    if (late && !this.#skipped) {
      this.#skipped = true;
      return;
    }
    this.#skipped = false;
    for (const host of this.#hosts()) {
      if (host === undefined || host.state !== 'ready') continue;
      const silent = host.silentForMs(now);
      if (silent <= this.#ctx.sup.hangTimeoutMs) continue;
      const slot = host.activeSlot();
      const culprit = slot === undefined ? undefined : this.#ctx.strategies.bySlot(slot)?.config.id;
      const err = new RunnerError(
        'WORKER_HUNG',
        `thread ${host.index} gave no sign of life for ${silent} ms${culprit === undefined ? '' : ` (inside strategy '${culprit}' onTick)`}; terminating it`,
        { details: { thread: host.index, strategy_id: culprit, silent_ms: silent } },
      );
      void host.terminate(err);
    }
  }
}
