import { setTimeout as delay } from 'node:timers/promises';

/**
 * Wait `ms` (a timer that does not keep the process alive). With a signal the
 * wait ends early when it aborts; the result says which: true after the full
 * wait, false when aborted. Never rejects.
 */
export async function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted === true) return false;
  try {
    await delay(Math.max(0, ms), undefined, signal === undefined ? { ref: false } : { ref: false, signal });
    return true;
  } catch {
    return false;
  }
}

/** A value that is not a promise's: what `within()` resolves to when the time ran out. */
export const TIMED_OUT: unique symbol = Symbol('timed out');

/**
 * `promise`'s value, or TIMED_OUT after `ms` (or when `signal` aborts), whichever
 * comes first; the promise keeps running. The timer is cleared either way.
 */
export async function within<T>(promise: Promise<T>, ms: number, signal?: AbortSignal): Promise<T | typeof TIMED_OUT> {
  const stop = new AbortController();
  const timeout = sleep(ms, signal === undefined ? stop.signal : AbortSignal.any([stop.signal, signal])).then((): typeof TIMED_OUT => TIMED_OUT);
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    stop.abort();
  }
}
