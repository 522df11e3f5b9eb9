import { performance } from 'node:perf_hooks';

/** Ticks per second over `ms` milliseconds, rounded: the one formula for the progress bar and replay's summary. */
export function ticksPerSecond(ticks: number, ms: number): number {
  return ms > 0 ? Math.round((ticks * 1000) / ms) : 0;
}

export interface ProgressLineOptions {
  /** redraw period; default 200 ms */
  intervalMs?: number;
  /** performance.now() at which the measured interval starts; default: now */
  startedAt?: number;
}

/**
 * A one-line progress display on a terminal (stderr), redrawn every
 * `intervalMs` with what `line(elapsedMs)` returns. Does nothing when stderr
 * is not a terminal, so logs and CI output stay clean. The elapsed time runs
 * from `startedAt` to now (to `stop(endedAt)` for the last line): give
 * replay's summary the same two instants and both print the same ticks/s.
 */
export class ProgressLine {
  readonly #enabled: boolean;
  readonly #line: (elapsedMs: number) => string;
  readonly startedAt: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(enabled: boolean, line: (elapsedMs: number) => string, options: ProgressLineOptions = {}) {
    this.#enabled = enabled && process.stderr.isTTY === true;
    this.#line = line;
    this.startedAt = options.startedAt ?? performance.now();
    if (this.#enabled) {
      this.#timer = setInterval(() => this.#draw(performance.now()), options.intervalMs ?? 200);
      this.#timer.unref();
    }
  }

  #draw(at: number): void {
    process.stderr.write(`\r${this.#line(at - this.startedAt)}\x1b[K`);
  }

  /** Stop redrawing; the last line shows the state at `endedAt` (performance.now(), default now). */
  stop(endedAt = performance.now()): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#draw(endedAt);
    process.stderr.write('\n');
  }
}

/** replay's line: a bar of `done` over `total`, the ticks and their speed. */
export function barLine(p: { done: number; total: number; ticks: number }, elapsedMs: number): string {
  const frac = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
  const width = 30;
  const filled = Math.round(frac * width);
  const rate = ticksPerSecond(p.ticks, elapsedMs);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(1).padStart(5)}%  ${p.ticks.toLocaleString('en-US')} ticks  ${rate.toLocaleString('en-US')} ticks/s`;
}

/** A progress bar of `read()` (replay). */
export function progressBar(enabled: boolean, read: () => { done: number; total: number; ticks: number }, options: ProgressLineOptions = {}): ProgressLine {
  return new ProgressLine(enabled, (ms) => barLine(read(), ms), options);
}
