/**
 * A one-line progress bar on a terminal (stderr), redrawn at most every
 * `intervalMs`. Does nothing when stderr is not a terminal, so logs and CI
 * output stay clean.
 */
export class ProgressBar {
  readonly #enabled: boolean;
  readonly #read: () => { done: number; total: number; ticks: number };
  readonly #startedAt = Date.now();
  #timer: NodeJS.Timeout | undefined;

  constructor(enabled: boolean, read: () => { done: number; total: number; ticks: number }, intervalMs = 200) {
    this.#enabled = enabled && process.stderr.isTTY === true;
    this.#read = read;
    if (this.#enabled) {
      this.#timer = setInterval(() => this.#draw(), intervalMs);
      this.#timer.unref();
    }
  }

  #draw(): void {
    const { done, total, ticks } = this.#read();
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const width = 30;
    const filled = Math.round(frac * width);
    const secs = (Date.now() - this.#startedAt) / 1000;
    const rate = secs > 0 ? Math.round(ticks / secs) : 0;
    const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(1).padStart(5)}%  ${ticks.toLocaleString('en-US')} ticks  ${rate.toLocaleString('en-US')} ticks/s`;
    process.stderr.write(`\r${line}\x1b[K`);
  }

  stop(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#draw();
    process.stderr.write('\n');
  }
}
