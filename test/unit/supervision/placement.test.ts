import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { assignThreads, threadCount } from '../../../src/supervision/placement.js';

describe('threadCount', () => {
  it('is 0 for no strategies whatever the pool size', () => {
    expect(threadCount(0, undefined)).toBe(0);
    expect(threadCount(0, 4)).toBe(0);
  });

  it('is one thread per strategy without a pool size', () => {
    expect(threadCount(1, undefined)).toBe(1);
    expect(threadCount(7, undefined)).toBe(7);
  });

  it('is capped by the pool size', () => {
    expect(threadCount(10, 4)).toBe(4);
    expect(threadCount(4, 4)).toBe(4);
  });

  it('never exceeds the number of strategies', () => {
    expect(threadCount(3, 8)).toBe(3);
  });

  it('is at least 1 when there are strategies, even for a pool size of 0 or less', () => {
    expect(threadCount(5, 0)).toBe(1);
    expect(threadCount(5, -2)).toBe(1);
  });
});

describe('assignThreads', () => {
  it('assigns round-robin in the given order', () => {
    expect(assignThreads(7, 3)).toEqual([0, 1, 2, 0, 1, 2, 0]);
    expect(assignThreads(3, 3)).toEqual([0, 1, 2]);
    expect(assignThreads(4, 1)).toEqual([0, 0, 0, 0]);
  });

  it('returns an empty list for no strategies', () => {
    expect(assignThreads(0, 3)).toEqual([]);
  });

  it('is deterministic', () => {
    expect(assignThreads(11, 4)).toEqual(assignThreads(11, 4));
  });

  it('gives every thread ⌊n/t⌋ or ⌈n/t⌉ strategies and uses only threads 0..t−1 (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 1, max: 40 }), (n, pool) => {
        const t = threadCount(n, pool);
        const a = assignThreads(n, t);
        expect(a).toHaveLength(n);
        if (n === 0) return;
        const counts = new Array<number>(t).fill(0);
        for (const h of a) {
          expect(Number.isInteger(h) && h >= 0 && h < t).toBe(true);
          counts[h]!++;
        }
        for (const c of counts) {
          expect(c === Math.floor(n / t) || c === Math.ceil(n / t)).toBe(true);
        }
        // no thread is left without work
        expect(Math.min(...counts)).toBeGreaterThan(0);
      }),
    );
  });
});
