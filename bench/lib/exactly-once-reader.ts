/**
 * The downstream reader of the exactly-once benchmark: a `read_committed`
 * consumer (KafkaJS layer, `readUncommitted: false`, fetch wait 5 ms) of one
 * deployment's signals topic, in the benchmark's own process. A signal is
 * *visible* when this consumer hands it to JavaScript: under exactly-once
 * delivery that is after its shard's transaction committed (and after every
 * transaction open before it on the same partition: the last stable offset);
 * under at-least-once, once the broker has it.
 *
 * Each signal carries the tick's `timestamp` back as `tick_timestamp`, and
 * the load generator stamps each tick with its SCHEDULED send time (epoch
 * ms, bench/lib/latency-loadgen.ts): visible time − tick_timestamp is the
 * latency from the schedule, so no stall anywhere is hidden. A signal is
 * given to the phase whose schedule its tick belongs to.
 */
import { KafkaJS } from '@confluentinc/kafka-javascript';
import hdr from 'hdr-histogram-js';
import { kafkaClient } from './broker.js';

type Histogram = ReturnType<typeof hdr.build>;

export const epochNow = (): number => performance.timeOrigin + performance.now();

export interface Percentiles {
  count: number;
  p50_ms: number;
  p99_ms: number;
  p999_ms: number;
  max_ms: number;
  mean_ms: number;
}

/** One offered rate's schedule: tick i is due at t0 + i·period (epoch ms). */
export class ReaderPhase {
  readonly t0: number;
  readonly period: number;
  readonly count: number;
  /** ticks before this index are not recorded in the histogram (the warm-up) */
  readonly warm: number;
  /** scheduled time of the tick → visible, µs, ticks past the warm-up */
  readonly latency: Histogram = hdr.build({ useWebAssembly: false, bitBucketSize: 32, lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3, autoResize: true });
  /** signals of this phase's ticks seen, duplicates included */
  visible = 0;
  /** signal ids seen more than once */
  duplicates = 0;
  /** epoch ms of the last signal of this phase seen */
  lastAt = 0;
  /** samples below zero (the two processes' clocks disagree), recorded as 0 */
  negative = 0;
  readonly #ids = new Set<string>();

  constructor(t0: number, period: number, count: number, warm: number) {
    this.t0 = t0;
    this.period = period;
    this.count = count;
    this.warm = warm;
  }

  get end(): number {
    return this.t0 + this.count * this.period;
  }

  owns(tickTimestamp: number): boolean {
    return tickTimestamp >= this.t0 - 0.001 && tickTimestamp < this.end;
  }

  record(signalId: string, tickTimestamp: number, at: number): void {
    this.visible++;
    this.lastAt = at;
    if (this.#ids.has(signalId)) this.duplicates++;
    else this.#ids.add(signalId);
    if (tickTimestamp < this.t0 + this.warm * this.period - 0.001) return;
    let ms = at - tickTimestamp;
    if (ms < 0) {
      this.negative++;
      ms = 0;
    }
    this.latency.recordValue(Math.round(ms * 1000));
  }

  percentiles(): Percentiles {
    const h = this.latency;
    const ms = (us: number): number => Math.round(us) / 1000;
    return { count: h.totalCount, p50_ms: ms(h.getValueAtPercentile(50)), p99_ms: ms(h.getValueAtPercentile(99)), p999_ms: ms(h.getValueAtPercentile(99.9)), max_ms: ms(h.maxValue), mean_ms: Math.round(h.mean) / 1000 };
  }
}

export class SignalReader {
  /** every signal seen, of any phase */
  total = 0;
  /** signals whose tick belongs to no phase (none expected) */
  stray = 0;
  /** values that did not parse */
  malformed = 0;
  readonly #consumer: KafkaJS.Consumer;
  readonly #phases: ReaderPhase[] = [];

  private constructor(consumer: KafkaJS.Consumer) {
    this.#consumer = consumer;
  }

  /** Subscribe to `topic` from the beginning and resolve once every one of its `partitions` is assigned. */
  static async start(brokers: readonly string[], topic: string, groupId: string, partitions: number, timeoutMs = 30_000): Promise<SignalReader> {
    // A topic created a moment ago may not be in every metadata answer yet; a consumer subscribed before then
    // waits for its next metadata refresh (minutes by default).
    await untilTopicKnown(brokers, topic, partitions, timeoutMs);
    const consumer = kafkaClient(brokers).consumer({
      // read_committed: what a downstream consumer of exactly-once signals must use; fetch wait 5 ms, so the
      // reader's own poll adds at most that to what is measured (the same for every configuration).
      kafkaJS: { groupId, fromBeginning: true, autoCommit: false, readUncommitted: false, maxWaitTimeInMs: 5, minBytes: 1 },
      'topic.metadata.refresh.interval.ms': 1000,
    } as never);
    const r = new SignalReader(consumer);
    await consumer.connect();
    await consumer.subscribe({ topics: [topic] });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const at = epochNow();
        r.#onMessage(message.value, at);
      },
    });
    const t0 = Date.now();
    while (consumer.assignment().length < partitions) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`the signal reader got ${consumer.assignment().length} of ${partitions} partitions of ${topic} within ${timeoutMs / 1000} s`);
      await new Promise((res) => setTimeout(res, 50));
    }
    return r;
  }

  /** A new phase: signals whose tick is scheduled in it are recorded there. */
  begin(t0: number, period: number, count: number, warm: number): ReaderPhase {
    const p = new ReaderPhase(t0, period, count, warm);
    this.#phases.push(p);
    return p;
  }

  #onMessage(value: Buffer | null, at: number): void {
    this.total++;
    let s: { signal_id?: unknown; tick_timestamp?: unknown };
    try {
      s = JSON.parse(value?.toString('utf8') ?? '') as typeof s;
    } catch {
      this.malformed++;
      return;
    }
    if (typeof s.signal_id !== 'string' || typeof s.tick_timestamp !== 'number') {
      this.malformed++;
      return;
    }
    const ts = s.tick_timestamp;
    // The newest phase first: it is where almost every signal belongs.
    for (let i = this.#phases.length - 1; i >= 0; i--) {
      const p = this.#phases[i]!;
      if (p.owns(ts)) return p.record(s.signal_id, ts, at);
    }
    this.stray++;
  }

  async stop(): Promise<void> {
    await this.#consumer.disconnect().catch(() => undefined);
  }
}

/** Resolve once the broker's metadata lists `partitions` partitions of `topic`. */
async function untilTopicKnown(brokers: readonly string[], topic: string, partitions: number, timeoutMs: number): Promise<void> {
  const admin = kafkaClient(brokers).admin();
  await admin.connect();
  try {
    const t0 = Date.now();
    for (;;) {
      const known = await admin.fetchTopicMetadata({ topics: [topic] }).then(
        (m) => m[0]?.partitions.length ?? 0,
        () => 0,
      );
      if (known >= partitions) return;
      if (Date.now() - t0 > timeoutMs) throw new Error(`topic ${topic}: ${known} of ${partitions} partitions in the broker's metadata after ${timeoutMs / 1000} s`);
      await new Promise((res) => setTimeout(res, 100));
    }
  } finally {
    await admin.disconnect();
  }
}
