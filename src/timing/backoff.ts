/**
 * Exponential back-off: initialMs, then ×factor per attempt, capped at maxMs.
 * One instance per retry loop; `reset()` after a success.
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** default 2 */
  factor?: number;
}

/** The delay before retry number `attempt` (0 for the first retry). */
export function backoffDelay(o: BackoffOptions, attempt: number): number {
  return Math.min(o.maxMs, o.initialMs * (o.factor ?? 2) ** Math.max(0, attempt));
}

export class Backoff {
  readonly options: BackoffOptions;
  #attempt = 0;

  constructor(options: BackoffOptions) {
    this.options = options;
  }

  /** retries so far since the last reset */
  get attempts(): number {
    return this.#attempt;
  }

  /** The next delay (and count one more attempt). */
  next(): number {
    return backoffDelay(this.options, this.#attempt++);
  }

  reset(): void {
    this.#attempt = 0;
  }
}
