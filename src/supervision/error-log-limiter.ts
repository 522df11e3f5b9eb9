/**
 * Keeps a failing strategy from flooding the log: at most `perWindow` lines
 * per strategy per window; the rest are counted and the count is reported on
 * the next line that gets through. Every error is still counted elsewhere.
 */
export class ErrorLogLimiter {
  readonly #perWindow: number;
  readonly #windowMs: number;
  readonly #state = new Map<string, { windowStart: number; used: number; suppressed: number }>();

  constructor(perWindow: number, windowMs: number) {
    this.#perWindow = perWindow;
    this.#windowMs = windowMs;
  }

  allow(key: string, now = Date.now()): boolean {
    let s = this.#state.get(key);
    if (s === undefined) this.#state.set(key, (s = { windowStart: now, used: 0, suppressed: 0 }));
    if (now - s.windowStart >= this.#windowMs) {
      s.windowStart = now;
      s.used = 0;
    }
    if (s.used < this.#perWindow) {
      s.used++;
      return true;
    }
    s.suppressed++;
    return false;
  }

  /** Lines suppressed since the last call for this key (and resets the count). */
  suppressed(key: string): number {
    const s = this.#state.get(key);
    if (s === undefined) return 0;
    const n = s.suppressed;
    s.suppressed = 0;
    return n;
  }
}
