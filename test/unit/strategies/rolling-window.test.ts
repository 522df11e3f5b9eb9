import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { RollingWindow } from '../../../src/strategies/rolling-window.js';

describe('RollingWindow construction', () => {
  it.each([0, -1, 1.5, NaN, Infinity])('rejects capacity %s with a RangeError', (capacity) => {
    expect(() => new RollingWindow(capacity)).toThrow(RangeError);
    expect(() => new RollingWindow(capacity)).toThrow(/capacity must be an integer >= 1/);
  });

  it('starts empty', () => {
    const w = new RollingWindow(3);
    expect(w.capacity).toBe(3);
    expect(w.size).toBe(0);
    expect(w.full).toBe(false);
    expect(w.values()).toEqual([]);
  });
});

describe('RollingWindow filling and overwriting', () => {
  it('grows until it reaches capacity', () => {
    const w = new RollingWindow(3);
    w.push(1);
    expect([w.size, w.full]).toEqual([1, false]);
    w.push(2);
    expect([w.size, w.full]).toEqual([2, false]);
    w.push(3);
    expect([w.size, w.full]).toEqual([3, true]);
    expect(w.values()).toEqual([1, 2, 3]);
  });

  it('drops the oldest value once full and keeps the order oldest → newest', () => {
    const w = new RollingWindow(3);
    for (const v of [1, 2, 3, 4, 5]) w.push(v);
    // kept: the last 3 of 1..5
    expect(w.size).toBe(3);
    expect(w.full).toBe(true);
    expect(w.values()).toEqual([3, 4, 5]);
    expect(w.at(0)).toBe(3);
    expect(w.at(1)).toBe(4);
    expect(w.at(2)).toBe(5);
    expect(w.oldest()).toBe(3);
    expect(w.newest()).toBe(5);
  });

  it('wraps around many times', () => {
    const w = new RollingWindow(4);
    for (let i = 1; i <= 103; i++) w.push(i);
    // last 4 of 1..103 = 100..103
    expect(w.values()).toEqual([100, 101, 102, 103]);
    expect(w.oldest()).toBe(100);
    expect(w.newest()).toBe(103);
  });

  it('with capacity 1 holds just the newest value', () => {
    const w = new RollingWindow(1);
    w.push(7);
    expect(w.full).toBe(true);
    w.push(8);
    expect(w.values()).toEqual([8]);
    expect(w.oldest()).toBe(8);
    expect(w.newest()).toBe(8);
  });

  it('stores doubles exactly', () => {
    const w = new RollingWindow(2);
    w.push(0.1);
    w.push(1234567.891);
    expect(w.values()).toEqual([0.1, 1234567.891]);
  });

  it('values() returns a copy the caller may modify', () => {
    const w = new RollingWindow(2);
    w.push(1);
    w.push(2);
    const v = w.values();
    v[0] = 99;
    expect(w.values()).toEqual([1, 2]);
  });
});

describe('RollingWindow bounds', () => {
  it('throws for indexes outside the filled part', () => {
    const w = new RollingWindow(5);
    w.push(1);
    w.push(2);
    expect(() => w.at(-1)).toThrow(RangeError);
    expect(() => w.at(2)).toThrow(RangeError); // capacity 5, but only 2 filled
    expect(() => w.at(5)).toThrow(RangeError);
  });

  it('oldest() and newest() throw on an empty window', () => {
    const w = new RollingWindow(3);
    expect(() => w.oldest()).toThrow(RangeError);
    expect(() => w.newest()).toThrow(RangeError);
  });
});

describe('RollingWindow model check', () => {
  it('always equals the last `capacity` values pushed (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.double({ noNaN: true }), { maxLength: 60 }),
        (capacity, pushes) => {
          const w = new RollingWindow(capacity);
          const model: number[] = [];
          for (const v of pushes) {
            w.push(v);
            model.push(v);
            if (model.length > capacity) model.shift();
            expect(w.size).toBe(model.length);
            expect(w.full).toBe(model.length === capacity);
            expect(w.values()).toEqual(model);
            expect(w.oldest()).toBe(model[0]);
            expect(w.newest()).toBe(model[model.length - 1]);
          }
        },
      ),
    );
  });
});
