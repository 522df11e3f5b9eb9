/**
 * The latency benchmark's load generator, run as a child process
 * (child_process.fork) so that its pacing does not share an event loop with
 * the runner. Produces `count` ticks at `rate` per second on an absolute
 * schedule: tick i is due at t0 + i·1000/rate (epoch ms) and carries that
 * SCHEDULED time as its `timestamp` (fractional epoch ms), whatever time it
 * actually leaves, so a stall anywhere (here included) shows in the latency
 * measured from it instead of being hidden (no coordinated omission). Header
 * `seq` = i lets the runner side note when each tick reached JavaScript.
 *
 * Protocol (IPC): parent sends { t: 'config', ... } → child connects and
 * answers { t: 'ready' } → parent sends { t: 'start', t0 } → child produces,
 * waits for every acknowledgement and answers { t: 'done', ... }, then exits.
 */
import { KafkaJS } from '@confluentinc/kafka-javascript';
import hdr from 'hdr-histogram-js';
import { mulberry32 } from '../../src/sim/prng.js';

export interface LoadgenConfig {
  t: 'config';
  brokers: string[];
  topic: string;
  rate: number;
  count: number;
  /** ticks before this index are not recorded */
  warm: number;
  instruments: number;
  seed: number;
  /** librdkafka options of the generator's producer (linger.ms, ...) */
  producer: Record<string, string | number | boolean>;
}

export interface LoadgenDone {
  t: 'done';
  sent: number;
  acked: number;
  failed: number;
  /** epoch ms of the last send() call */
  lastSendAt: number;
  /** most and mean ms a tick left after its scheduled time (the generator's own pacing) */
  maxSendLagMs: number;
  meanSendLagMs: number;
  /** scheduled time → the generator's delivery report (the produce leg), ms, after the warm-up ticks */
  producedAcked?: { count: number; p50_ms: number; p90_ms: number; p99_ms: number; p999_ms: number; max_ms: number; mean_ms: number };
  error?: string;
}

const epochNow = (): number => performance.timeOrigin + performance.now();

function nextMessage(): Promise<Record<string, unknown>> {
  return new Promise((resolve) => process.once('message', (m) => resolve(m as Record<string, unknown>)));
}

async function main(): Promise<void> {
  const cfg = (await nextMessage()) as unknown as LoadgenConfig;
  const kafka = new KafkaJS.Kafka({ kafkaJS: { brokers: cfg.brokers, clientId: 'bench-loadgen', logLevel: KafkaJS.logLevel.ERROR } });
  // A generator that falls behind must queue, not fail: room for ~20 s at 50k ticks/s.
  const producer = kafka.producer({
    kafkaJS: { acks: -1, compression: KafkaJS.CompressionTypes.None },
    'queue.buffering.max.messages': 1_000_000,
    'queue.buffering.max.kbytes': 1_048_576,
    ...cfg.producer,
  } as never);
  await producer.connect();
  // Connections to the partition leaders are open before the clock starts.
  await producer.send({ topic: cfg.topic, messages: [] }).catch(() => {});
  process.send!({ t: 'ready' });
  const start = await nextMessage();
  const t0 = Number(start['t0']);
  const period = 1000 / cfg.rate;
  const rand = mulberry32(cfg.seed);
  const prices = new Float64Array(cfg.instruments).fill(1000);
  let sent = 0;
  let acked = 0;
  let failed = 0;
  let error: string | undefined;
  let maxLag = 0;
  let sumLag = 0;
  let lastSendAt = 0;
  const pending = new Set<Promise<void>>();
  const acks = hdr.build({ useWebAssembly: false, bitBucketSize: 32, lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3, autoResize: true });
  while (sent < cfg.count) {
    const now = epochNow();
    const due = Math.min(cfg.count, Math.floor((now - t0) / period) + 1);
    if (due > sent) {
      const messages: KafkaJS.Message[] = new Array(due - sent);
      for (let i = sent; i < due; i++) {
        const k = Math.floor(rand() * cfg.instruments);
        prices[k] = Math.max(1, prices[k]! * (1 + (rand() - 0.5) * 0.004));
        const scheduled = t0 + i * period;
        const lag = now - scheduled;
        sumLag += lag;
        if (lag > maxLag) maxLag = lag;
        const token = 100_000 + k;
        messages[i - sent] = {
          key: String(token),
          value: `{"instrument_token":${token},"last_price":${prices[k]!.toFixed(2)},"timestamp":${scheduled.toFixed(3)},"volume":${i}}`,
          headers: { seq: String(i) },
        };
      }
      const n = due - sent;
      const first = sent;
      sent = due;
      lastSendAt = now;
      const p: Promise<void> = producer.send({ topic: cfg.topic, messages }).then(
        () => {
          acked += n;
          const at = epochNow();
          for (let i = Math.max(first, cfg.warm); i < first + n; i++) acks.recordValue(Math.max(0, Math.round((at - (t0 + i * period)) * 1000)));
        },
        (err: unknown) => {
          failed += n;
          error ??= (err as Error).message;
        },
      );
      pending.add(p);
      void p.finally(() => pending.delete(p));
    }
    if (sent >= cfg.count) break;
    // Sleep until the next tick is due. Timers fire at ~1 ms granularity, and spinning would take a
    // core from a 2-core machine: ticks that fall due meanwhile go together, each stamped with its
    // own scheduled time (so the wait counts in the latency; maxSendLagMs reports it).
    const wait = t0 + sent * period - epochNow();
    await new Promise((r) => setTimeout(r, Math.max(1, Math.floor(wait))));
  }
  while (pending.size > 0) await Promise.all([...pending]);
  await producer.disconnect();
  const done: LoadgenDone = { t: 'done', sent, acked, failed, lastSendAt, maxSendLagMs: maxLag, meanSendLagMs: sent > 0 ? sumLag / sent : 0,
    producedAcked: {
      count: acks.totalCount,
      p50_ms: acks.getValueAtPercentile(50) / 1000,
      p90_ms: acks.getValueAtPercentile(90) / 1000,
      p99_ms: acks.getValueAtPercentile(99) / 1000,
      p999_ms: acks.getValueAtPercentile(99.9) / 1000,
      max_ms: acks.maxValue / 1000,
      mean_ms: Math.round(acks.mean) / 1000,
    },
    ...(error === undefined ? {} : { error }) };
  process.send!(done, () => process.disconnect());
}

main().catch((err: unknown) => {
  process.send?.({ t: 'done', sent: 0, acked: 0, failed: 0, lastSendAt: 0, maxSendLagMs: 0, meanSendLagMs: 0, error: String((err as Error)?.stack ?? err) } satisfies LoadgenDone);
  process.exitCode = 1;
  process.disconnect?.();
});
