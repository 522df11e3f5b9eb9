/**
 * Coalesces a burst of triggers into one call: `fire()` is called `waitMs` after
 * the last trigger, but no later than `maxWaitMs` after the first one of the
 * burst (so a steady stream still fires). Timers do not keep the process alive.
 */
export class Debouncer {
  readonly #waitMs: number;
  readonly #maxWaitMs: number;
  readonly #fire: () => void;
  #timer: NodeJS.Timeout | undefined;
  #burstStartedAt = 0;

  constructor(fire: () => void, waitMs: number, maxWaitMs = Infinity) {
    this.#fire = fire;
    this.#waitMs = Math.max(0, waitMs);
    this.#maxWaitMs = Math.max(this.#waitMs, maxWaitMs);
  }

  get pending(): boolean {
    return this.#timer !== undefined;
  }

  trigger(): void {
    const now = Date.now();
    if (this.#timer === undefined) this.#burstStartedAt = now;
    else clearTimeout(this.#timer);
    const wait = Math.max(0, Math.min(this.#waitMs, this.#burstStartedAt + this.#maxWaitMs - now));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#fire();
    }, wait);
    this.#timer.unref();
  }

  /** Drop a pending call. */
  cancel(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
