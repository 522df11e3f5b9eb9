import { LATENCY_BUCKETS_US, type LatencySummary } from '../protocol/messages.js';

const SUB_BUCKETS = 8; // per power of two: about 9% resolution
const MAX_BUCKET = 40 * SUB_BUCKETS; // 2^40 µs: far beyond any handler

/**
 * A cheap log-bucketed latency histogram (microseconds) for the status
 * endpoint: one Math.log2 and an array increment per record, no allocation.
 * Percentiles are bucket upper bounds (≈9% resolution). The benchmark suite
 * uses an HDR histogram where precision matters.
 */
export class LatencyHistogram {
  readonly #counts = new Float64Array(MAX_BUCKET + 1);
  #count = 0;
  #max = 0;
  #sum = 0;

  record(us: number): void {
    const idx = us <= 1 ? 0 : Math.min(MAX_BUCKET, Math.ceil(Math.log2(us) * SUB_BUCKETS));
    this.#counts[idx]!++;
    this.#count++;
    this.#sum += us;
    if (us > this.#max) this.#max = us;
  }

  get count(): number {
    return this.#count;
  }

  percentile(p: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#count));
    let seen = 0;
    for (let i = 0; i <= MAX_BUCKET; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return Math.min(this.#max, i === 0 ? 1 : 2 ** (i / SUB_BUCKETS));
    }
    return this.#max;
  }

  get sum(): number {
    return this.#sum;
  }

  /**
   * Cumulative counts at the given upper bounds (µs), for a Prometheus
   * histogram: a record counts under `le` when its bucket's upper bound is ≤ le
   * (so within the ≈9% resolution, a bound may undercount records just below it).
   */
  cumulative(les: readonly number[]): number[] {
    const out: number[] = [];
    let i = 0;
    let seen = 0;
    for (const le of les) {
      while (i <= MAX_BUCKET && (i === 0 ? 1 : 2 ** (i / SUB_BUCKETS)) <= le) seen += this.#counts[i++]!;
      out.push(seen);
    }
    return out;
  }

  summary(): LatencySummary {
    return {
      count: this.#count,
      sum: round(this.#sum),
      buckets: this.cumulative(LATENCY_BUCKETS_US),
      p50: round(this.percentile(50)),
      p90: round(this.percentile(90)),
      p99: round(this.percentile(99)),
      max: round(this.#max),
    };
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
