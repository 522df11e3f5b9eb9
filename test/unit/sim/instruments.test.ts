import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { roundToTickSize } from '../../../src/sim/instruments.js';

const onGrid = (p: number): boolean => Math.abs(p * 20 - Math.round(p * 20)) < 1e-6;

describe('roundToTickSize', () => {
  it('rounds to the nearest 0.05, never below 0.05, as a short decimal', () => {
    expect(roundToTickSize(23450.3712)).toBe(23450.35);
    expect(roundToTickSize(23450.376)).toBe(23450.4);
    expect(roundToTickSize(0.001)).toBe(0.05);
    expect(roundToTickSize(1.024)).toBe(1);
    expect(String(roundToTickSize(1265.15))).toBe('1265.15');
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 1e6, noNaN: true }), (p) => {
        const r = roundToTickSize(p);
        return r >= 0.05 && onGrid(r) && (p < 0.05 || Math.abs(r - p) <= 0.025 + 1e-9);
      }),
    );
  });
});
