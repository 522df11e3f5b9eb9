import { LATENCY_BUCKETS_US } from '../../../src/protocol/messages.js';
import { describe, it, expect } from 'vitest';
import { LatencyHistogram } from '../../../src/metrics/latency-histogram.js';

/** One bucket: a factor of 2^(1/8) ≈ 1.0905. */
const STEP = 2 ** (1 / 8);

describe('LatencyHistogram', () => {
  it('is all zeros when empty', () => {
    const h = new LatencyHistogram();
    expect(h.count).toBe(0);
    expect(h.percentile(50)).toBe(0);
    expect(h.percentile(99)).toBe(0);
    expect(h.summary()).toEqual({ count: 0, sum: 0, buckets: LATENCY_BUCKETS_US.map(() => 0), p50: 0, p90: 0, p99: 0, max: 0 });
  });

  it('with a single repeated value, every percentile is that value (capped by the exact max)', () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 100; i++) h.record(37);
    expect(h.count).toBe(100);
    for (const p of [0, 1, 50, 90, 99, 100]) expect(h.percentile(p)).toBe(37);
    expect(h.summary()).toMatchObject({ count: 100, sum: 3700, p50: 37, p90: 37, p99: 37, max: 37 });
    // 37 µs falls in the bucket (2^(41/8) ≈ 34.9, 2^(42/8) ≈ 38.1]: counted from le=50 on.
    expect(h.summary().buckets.slice(0, 6)).toEqual([0, 0, 0, 0, 0, 100]);
  });

  it('a power of two sits exactly on a bucket bound', () => {
    const h = new LatencyHistogram();
    h.record(64);
    h.record(1024);
    // p50 → rank 1 → the bucket of 64, whose upper bound is 2^6 = 64
    expect(h.percentile(50)).toBe(64);
    expect(h.percentile(100)).toBe(1024);
  });

  it('p50/p90/p99 of 1..1000 µs are within one bucket (~9%) above the true value, never below', () => {
    const h = new LatencyHistogram();
    for (let v = 1; v <= 1000; v++) h.record(v);
    // true nearest-rank percentiles: p50 = 500, p90 = 900, p99 = 990
    for (const [p, exact] of [
      [50, 500],
      [90, 900],
      [99, 990],
    ] as const) {
      const got = h.percentile(p);
      expect(got).toBeGreaterThanOrEqual(exact);
      expect(got).toBeLessThanOrEqual(Math.min(1000, exact * STEP));
    }
    // 500 → bucket ceil(8·log2 500) = 72 → bound 2^9 = 512
    expect(h.percentile(50)).toBe(512);
    // 990 → bucket ceil(8·log2 990) = 80 → bound 2^10 = 1024, capped by the max 1000
    expect(h.percentile(99)).toBe(1000);
  });

  it('keeps the exact max and reports it in the summary', () => {
    const h = new LatencyHistogram();
    for (const v of [3, 12.345, 7, 1234.567, 2]) h.record(v);
    expect(h.summary().max).toBe(1234.57);
    expect(h.percentile(100)).toBe(1234.567);
    expect(h.count).toBe(5);
  });

  it('a skewed distribution: 99 fast calls and one slow one', () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 99; i++) h.record(10);
    h.record(5000);
    // 10 → bucket ceil(8·log2 10) = ceil(26.58) = 27 → bound 2^(27/8) ≈ 10.3747 (8 · 2^0.375)
    expect(h.percentile(50)).toBeCloseTo(2 ** (27 / 8), 10);
    expect(h.percentile(99)).toBeCloseTo(2 ** (27 / 8), 10);
    expect(h.percentile(100)).toBe(5000);
    const s = h.summary();
    expect(s.p50).toBe(10.37);
    expect(s.p99).toBe(10.37);
    expect(s.max).toBe(5000);
  });

  it('values of 1 µs or less share the lowest bucket, reported as at most 1', () => {
    const h = new LatencyHistogram();
    h.record(0);
    h.record(0.25);
    h.record(0.5);
    expect(h.percentile(50)).toBe(0.5); // bucket 0 reports 1, capped by the max 0.5
    expect(h.summary()).toMatchObject({ count: 3, p50: 0.5, p90: 0.5, p99: 0.5, max: 0.5 });
    expect(h.summary().buckets[0]).toBe(3); // all under le=1

    const g = new LatencyHistogram();
    g.record(0.2);
    g.record(1);
    g.record(900);
    expect(g.percentile(50)).toBe(1); // ranks 1 and 2 are in bucket 0 → 1
    expect(g.percentile(100)).toBe(900);
  });

  it('percentile rank rounds up (nearest-rank): p50 of four values is the 2nd', () => {
    const h = new LatencyHistogram();
    for (const v of [2, 4, 8, 16]) h.record(v);
    expect(h.percentile(50)).toBe(4);
    expect(h.percentile(51)).toBe(8);
    expect(h.percentile(75)).toBe(8);
    expect(h.percentile(76)).toBe(16);
  });

  it('summary rounds to 2 decimals', () => {
    const h = new LatencyHistogram();
    h.record(3); // bucket ceil(8·log2 3) = 13 → 2^(13/8) ≈ 3.084, capped by max 3
    h.record(3.14159);
    const s = h.summary();
    expect(s.max).toBe(3.14);
    expect(s.p50).toBe(3.08);
  });

  it('huge values are clamped to the last bucket but max stays exact', () => {
    const h = new LatencyHistogram();
    h.record(2 ** 45);
    expect(h.count).toBe(1);
    expect(h.percentile(50)).toBe(2 ** 40);
    expect(h.summary().max).toBe(2 ** 45);
  });
});
