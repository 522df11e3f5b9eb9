import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelay } from '../../../src/timing/backoff.js';
import { Debouncer } from '../../../src/timing/debouncer.js';
import { sleep, TIMED_OUT, within } from '../../../src/timing/sleep.js';

describe('Backoff', () => {
  it('doubles from the initial delay up to the cap, and starts over after reset', () => {
    const b = new Backoff({ initialMs: 250, maxMs: 2000 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([250, 500, 1000, 2000, 2000]);
    expect(b.attempts).toBe(5);
    b.reset();
    expect(b.next()).toBe(250);
    expect(backoffDelay({ initialMs: 1000, maxMs: 30_000, factor: 3 }, 2)).toBe(9000);
  });
});

describe('sleep and within', () => {
  it('sleep resolves true after the wait, false at once when aborted', async () => {
    expect(await sleep(5)).toBe(true);
    const c = new AbortController();
    const t0 = Date.now();
    const p = sleep(10_000, c.signal);
    c.abort();
    expect(await p).toBe(false);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(await sleep(10, AbortSignal.abort())).toBe(false);
  });

  it('within gives the value, or TIMED_OUT when the time runs out or the signal aborts', async () => {
    expect(await within(Promise.resolve(7), 1000)).toBe(7);
    expect(await within(new Promise(() => {}), 10)).toBe(TIMED_OUT);
    const c = new AbortController();
    const p = within(new Promise(() => {}), 60_000, c.signal);
    c.abort();
    expect(await p).toBe(TIMED_OUT);
    await expect(within(Promise.reject(new Error('no')), 1000)).rejects.toThrow('no');
  });
});

describe('Debouncer', () => {
  it('fires once for a burst, and no later than maxWait after its first trigger', async () => {
    let fired = 0;
    const d = new Debouncer(() => fired++, 30);
    d.trigger();
    d.trigger();
    d.trigger();
    expect(d.pending).toBe(true);
    await sleep(80);
    expect(fired).toBe(1);
    expect(d.pending).toBe(false);

    const times: number[] = [];
    const t0 = Date.now();
    const steady = new Debouncer(() => times.push(Date.now() - t0), 40, 100);
    const tick = setInterval(() => steady.trigger(), 10);
    await sleep(170);
    clearInterval(tick);
    steady.cancel();
    expect(times.length).toBeGreaterThanOrEqual(1); // a steady stream still fires
    expect(times[0]!).toBeLessThan(150);
  });

  it('cancel drops a pending call', async () => {
    let fired = 0;
    const d = new Debouncer(() => fired++, 10);
    d.trigger();
    d.cancel();
    await sleep(40);
    expect(fired).toBe(0);
  });
});
