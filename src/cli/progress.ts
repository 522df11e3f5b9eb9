import { performance } from 'node:perf_hooks';

/** Ticks per second over `ms` milliseconds, rounded: the one formula for the progress bar and replay's summary. */
export function ticksPerSecond(ticks: number, ms: number): number {
  return ms > 0 ? Math.round((ticks * 1000) / ms) : 0;
}

export interface ProgressBarOptions {
  /** redraw period; default 200 ms */
  intervalMs?: number;
  /** performance.now() at which the measured interval starts; default: now */
  startedAt?: number;
}

/**
 * A one-line progress bar on a terminal (stderr), redrawn at most every
 * `intervalMs`. Does nothing when stderr is not a terminal, so logs and CI
 * output stay clean. Its speed is ticks over the interval from `startedAt`
 * to now (to `stop(endedAt)` for the last line): give replay's summary the
 * same two instants and both print the same ticks/s.
 */
export class ProgressBar {
  readonly #enabled: boolean;
  readonly #read: () => { done: number; total: number; ticks: number };
  readonly startedAt: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(enabled: boolean, read: () => { done: number; total: number; ticks: number }, options: ProgressBarOptions = {}) {
    this.#enabled = enabled && process.stderr.isTTY === true;
    this.#read = read;
    this.startedAt = options.startedAt ?? performance.now();
    if (this.#enabled) {
      this.#timer = setInterval(() => this.#draw(performance.now()), options.intervalMs ?? 200);
      this.#timer.unref();
    }
  }

  #draw(at: number): void {
    const { done, total, ticks } = this.#read();
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const width = 30;
    const filled = Math.round(frac * width);
    const rate = ticksPerSecond(ticks, at - this.startedAt);
    const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(1).padStart(5)}%  ${ticks.toLocaleString('en-US')} ticks  ${rate.toLocaleString('en-US')} ticks/s`;
    process.stderr.write(`\r${line}\x1b[K`);
  }

  /** Stop redrawing; the last line shows the speed up to `endedAt` (performance.now(), default now). */
  stop(endedAt = performance.now()): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#draw(endedAt);
    process.stderr.write('\n');
  }
}
