/**
 * A steady tick flow for the scale-out benchmark: `rate` ticks per second
 * produced to the ticks topic on an absolute schedule (every 10 ms, what is
 * due since the start), keyed by instrument token like the workload's
 * pre-load, in the workload's line format (bench/lib/workload.ts), sends
 * fired without awaiting each. It runs in the benchmark's own process: the
 * runners are other processes, and their CPU time is read per process.
 */
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { mulberry32 } from '../../src/sim/prng.js';
import { kafkaClient } from './broker.js';

export class TickFlow {
  readonly rate: number;
  sent = 0;
  acked = 0;
  failed = 0;
  lastError: string | undefined;
  readonly #producer: KafkaJS.Producer;
  readonly #topic: string;
  readonly #pending = new Set<Promise<void>>();
  readonly #rand: () => number;
  readonly #prices: Float64Array;
  readonly #instruments: number;
  #timer: NodeJS.Timeout | undefined;
  #t0 = 0;
  #ts = 1_700_000_000_000;

  private constructor(producer: KafkaJS.Producer, topic: string, rate: number, instruments: number, seed: number) {
    this.#producer = producer;
    this.#topic = topic;
    this.rate = rate;
    this.#instruments = instruments;
    this.#rand = mulberry32(seed);
    this.#prices = new Float64Array(instruments).fill(1000);
  }

  static async start(brokers: readonly string[], topic: string, rate: number, instruments = 1000, seed = 3): Promise<TickFlow> {
    const producer = kafkaClient(brokers).producer({ kafkaJS: { acks: -1, compression: KafkaJS.CompressionTypes.None }, 'linger.ms': 5 } as never);
    await producer.connect();
    const f = new TickFlow(producer, topic, rate, instruments, seed);
    f.#t0 = performance.now();
    f.#timer = setInterval(() => f.#tick(), 10);
    return f;
  }

  #line(): { key: string; value: string } {
    const k = Math.floor(this.#rand() * this.#instruments);
    this.#prices[k] = Math.max(1, this.#prices[k]! * (1 + (this.#rand() - 0.5) * 0.004));
    this.#ts += 1;
    const token = 100_000 + k;
    return { key: String(token), value: `{"instrument_token":${token},"last_price":${this.#prices[k]!.toFixed(2)},"timestamp":${this.#ts},"volume":${this.sent}}` };
  }

  #tick(): void {
    const due = Math.floor(((performance.now() - this.#t0) * this.rate) / 1000);
    // A stall (the event loop held elsewhere) is caught up, but never by more than a second's worth at once.
    const n = Math.min(due - this.sent, this.rate);
    if (n <= 0) return;
    const messages = [];
    for (let i = 0; i < n; i++) {
      messages.push(this.#line());
      this.sent++;
    }
    const p = this.#producer
      .send({ topic: this.#topic, messages })
      .then(
        () => {
          this.acked += n;
        },
        (err: unknown) => {
          this.failed += n;
          this.lastError = (err as Error).message;
        },
      )
      .finally(() => this.#pending.delete(p));
    this.#pending.add(p);
  }

  /** Stop the schedule, wait for every acknowledgement, disconnect. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await Promise.all([...this.#pending]);
    await this.#producer.disconnect();
  }
}
