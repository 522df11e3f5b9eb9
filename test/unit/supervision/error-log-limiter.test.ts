import { describe, it, expect } from 'vitest';
import { ErrorLogLimiter } from '../../../src/supervision/error-log-limiter.js';

describe('ErrorLogLimiter', () => {
  it('allows up to perWindow lines per key in a window, then refuses', () => {
    const l = new ErrorLogLimiter(3, 1000);
    expect([0, 10, 20, 30, 999].map((t) => l.allow('s1', t))).toEqual([true, true, true, false, false]);
  });

  it('the next window starts windowMs after the first line of the previous one', () => {
    const l = new ErrorLogLimiter(2, 1000);
    expect(l.allow('s', 500)).toBe(true);
    expect(l.allow('s', 600)).toBe(true);
    expect(l.allow('s', 1499)).toBe(false); // 999 ms after the window start
    expect(l.allow('s', 1500)).toBe(true); // exactly windowMs later: a new window
    expect(l.allow('s', 1501)).toBe(true);
    expect(l.allow('s', 1502)).toBe(false);
  });

  it('counts suppressed lines and resets the count when read', () => {
    const l = new ErrorLogLimiter(1, 1000);
    l.allow('s', 0);
    l.allow('s', 1);
    l.allow('s', 2);
    l.allow('s', 3);
    expect(l.suppressed('s')).toBe(3);
    expect(l.suppressed('s')).toBe(0);
    l.allow('s', 4);
    expect(l.suppressed('s')).toBe(1);
  });

  it('the suppressed count survives a window change until it is read', () => {
    const l = new ErrorLogLimiter(1, 100);
    l.allow('s', 0);
    l.allow('s', 50); // suppressed
    expect(l.allow('s', 100)).toBe(true); // new window
    expect(l.suppressed('s')).toBe(1);
  });

  it('keys are independent', () => {
    const l = new ErrorLogLimiter(1, 1000);
    expect(l.allow('a', 0)).toBe(true);
    expect(l.allow('a', 1)).toBe(false);
    expect(l.allow('b', 2)).toBe(true);
    expect(l.allow('b', 3)).toBe(false);
    expect(l.allow('b', 4)).toBe(false);
    expect(l.suppressed('a')).toBe(1);
    expect(l.suppressed('b')).toBe(2);
    // b's window starts at 2, a's at 0
    expect(l.allow('a', 1000)).toBe(true);
    expect(l.allow('b', 1000)).toBe(false);
    expect(l.allow('b', 1002)).toBe(true);
  });

  it('an unknown key has nothing suppressed', () => {
    expect(new ErrorLogLimiter(1, 1000).suppressed('never')).toBe(0);
  });

  it('perWindow 0 suppresses everything', () => {
    const l = new ErrorLogLimiter(0, 1000);
    expect(l.allow('s', 0)).toBe(false);
    expect(l.allow('s', 5000)).toBe(false);
    expect(l.suppressed('s')).toBe(2);
  });

  it('uses Date.now() when no time is given', () => {
    const l = new ErrorLogLimiter(1, 60_000);
    expect(l.allow('s')).toBe(true);
    expect(l.allow('s')).toBe(false);
  });
});
