/**
 * Producing signals: the service's sink (KafkaSignalSink, the client's
 * low-level `produce()` with delivery reports polled on librdkafka's thread)
 * with each header set of `kafka.producer.signalHeaders` (and with
 * `deliveryPollMs` 5: reports polled from the event loop), against the
 * KafkaJS-compatible `send` the sink used before (1000 messages per call, up
 * to 64 calls in flight), and against the binding itself
 * (`raw-produce-full-headers`: the client's `produce()` with the same value,
 * key and full headers, one delivery-report counter per write as the sink
 * keeps, nothing else: what the binding allows at most). Each measure writes N signals in rounds of 100 with
 * up to `maxPendingRounds` (64) rounds unacknowledged, as the pipeline does,
 * and is timed from the first write to the last acknowledgement; CPU time is
 * the whole process's (user + system) per signal. Rounds are interleaved.
 *   node dist/bench/produce.js [--quick] [--brokers H:P] [--signals N] [--runs N] [--out FILE]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import kafkaClient, { KafkaJS } from '@confluentinc/kafka-javascript';
import pino from 'pino';
import type { Signal } from '../src/domain/signal.js';
import { KafkaConfigSchema } from '../src/transport/kafka/kafka-config.js';
import { KafkaSignalSink } from '../src/transport/kafka/kafka-signal-sink.js';
import { createTopics, deleteTopics, uniqueName, useBroker } from './lib/broker.js';
import { machine, median } from './lib/machine.js';

const HERE = dirname(fileURLToPath(import.meta.url));
type Measure = 'sink-full-headers' | 'sink-id-header' | 'sink-no-headers' | 'sink-full-headers-poll5' | 'sink-no-headers-poll5' | 'kafkajs-send-full-headers' | 'raw-produce-full-headers';
const MEASURES: Measure[] = ['kafkajs-send-full-headers', 'raw-produce-full-headers', 'sink-full-headers', 'sink-id-header', 'sink-no-headers', 'sink-full-headers-poll5', 'sink-no-headers-poll5'];
const ROUND = 100;
const MAX_PENDING = 64;

function signals(n: number): Signal[] {
  return Array.from({ length: n }, (_, i) => ({
    signal_id: `s-${i.toString(36)}-0123456789abcdef`,
    strategy_id: `mom-${i % 100}`,
    strategy_type: 'SimpleMomentumStrategy',
    instrument_token: 256265 + (i % 50),
    side: i % 2 === 0 ? 'BUY' : 'SELL',
    quantity: 1,
    price: 100 + (i % 97) / 10,
    tick_timestamp: 1_700_000_000_000 + i,
    broker: 'paper',
  }));
}

interface Writer {
  write(s: readonly Signal[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * The binding's own produce() as the sink uses it (acks=all, idempotent, the
 * sink's compression and linger, reports on librdkafka's thread), with none of
 * the sink's bookkeeping beyond one counter per write: the ceiling for the sink.
 */
async function rawWriter(brokers: string[], topic: string): Promise<Writer> {
  const c = KafkaConfigSchema.parse({ brokers });
  const p = new kafkaClient.Producer({
    'bootstrap.servers': brokers.join(','),
    acks: -1,
    'enable.idempotence': true,
    'compression.codec': c.producer.compression,
    'linger.ms': c.producer.lingerMs,
    'message.timeout.ms': 0,
    dr_cb: true,
  });
  await new Promise<void>((resolve, reject) => p.connect({ timeout: 10_000 }, (err) => (err ? reject(err) : resolve())));
  p.setPollInBackground(true);
  p.on('delivery-report', (err, report) => {
    const w = report.opaque as { left: number; resolve: () => void; reject: (e: unknown) => void };
    if (err) w.reject(err);
    else if (--w.left === 0) w.resolve();
  });
  return {
    write: (list) =>
      new Promise<void>((resolve, reject) => {
        const w = { left: list.length, resolve, reject };
        try {
          for (const s of list) {
            p.produce(topic, null, Buffer.from(JSON.stringify(s)), String(s.instrument_token), null, w, [{ 'strategy-id': s.strategy_id }, { 'signal-id': s.signal_id }, { 'strategy-type': s.strategy_type }]);
          }
        } catch (err) {
          // The bench keeps 64 × 100 signals pending, well below librdkafka's queue: a full queue is a failure here.
          reject(err);
        }
      }),
    close: () => new Promise<void>((resolve) => p.disconnect(() => resolve())),
  };
}

async function writer(m: Measure, brokers: string[], topicPattern: string): Promise<Writer> {
  const base = { brokers, topics: { signals: topicPattern } };
  if (m === 'raw-produce-full-headers') return rawWriter(brokers, topicPattern.replace('{broker}', 'paper'));
  if (m !== 'kafkajs-send-full-headers') {
    const headers = m.startsWith('sink-full') ? 'full' : m === 'sink-id-header' ? 'id' : 'none';
    const deliveryPollMs = m.endsWith('-poll5') ? 5 : 0;
    const sink = new KafkaSignalSink(KafkaConfigSchema.parse({ ...base, producer: { signalHeaders: headers, deliveryPollMs } }), pino({ level: 'warn' }));
    await sink.connect();
    return sink;
  }
  // The sink as it was before (the KafkaJS-compatible producer): one send per topic per round.
  const c = KafkaConfigSchema.parse(base);
  const p = new KafkaJS.Kafka({ kafkaJS: { brokers, clientId: c.clientId, logLevel: KafkaJS.logLevel.ERROR } }).producer({
    kafkaJS: { acks: -1, idempotent: true, compression: c.producer.compression as KafkaJS.CompressionTypes },
    'linger.ms': c.producer.lingerMs,
    'message.timeout.ms': 0,
  });
  await p.connect();
  const topic = topicPattern.replace('{broker}', 'paper');
  return {
    write: async (list) => {
      await p.send({
        topic,
        messages: list.map((s) => ({ key: String(s.instrument_token), value: JSON.stringify(s), headers: { 'strategy-id': s.strategy_id, 'signal-id': s.signal_id, 'strategy-type': s.strategy_type } })),
      });
    },
    close: () => p.disconnect(),
  };
}

async function run(m: Measure, brokers: string[], list: Signal[]): Promise<{ rate: number; cpuUsPerSignal: number }> {
  const pattern = `${uniqueName('bench-produce')}.{broker}.signals`;
  const topic = pattern.replace('{broker}', 'paper');
  await createTopics(brokers, [{ topic, partitions: 3 }]);
  const w = await writer(m, brokers, pattern);
  try {
    const pending = new Set<Promise<void>>();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < list.length; i += ROUND) {
      while (pending.size >= MAX_PENDING) await Promise.race(pending);
      const p = w.write(list.slice(i, i + ROUND)).finally(() => pending.delete(p));
      pending.add(p);
    }
    await Promise.all(pending);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return { rate: list.length / seconds, cpuUsPerSignal: (cpu.user + cpu.system) / list.length };
  } finally {
    await w.close();
    await deleteTopics(brokers, [topic]).catch(() => {});
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, brokers: { type: 'string' }, signals: { type: 'string' }, runs: { type: 'string' }, out: { type: 'string' } } });
  const broker = useBroker(values.brokers);
  const n = Number(values.signals ?? (values.quick ? 100_000 : 400_000));
  const rounds = Number(values.runs ?? (values.quick ? 1 : 3));
  const list = signals(n);
  const results = new Map<Measure, { rate: number; cpuUsPerSignal: number }[]>(MEASURES.map((m) => [m, []]));
  try {
    // A warm-up run of the first measure: the first producer of a process pays for the broker's first metadata and JIT.
    await run('sink-full-headers', broker.brokers, list.slice(0, Math.min(20_000, n)));
    for (let r = 0; r < rounds; r++) {
      for (const m of MEASURES) {
        const x = await run(m, broker.brokers, list);
        results.get(m)!.push(x);
        process.stdout.write(`  round ${r + 1}: ${m.padEnd(26)} ${Math.round(x.rate).toLocaleString('en-US').padStart(9)} signals/s  ${x.cpuUsPerSignal.toFixed(2)} µs CPU per signal\n`);
      }
    }
  } finally {
    broker.stop();
  }
  const summary = MEASURES.map((m) => {
    const xs = results.get(m)!;
    const rates = xs.map((x) => x.rate);
    return { measure: m, median_signals_per_s: Math.round(median(rates)), min: Math.round(Math.min(...rates)), max: Math.round(Math.max(...rates)), median_cpu_us_per_signal: Number(median(xs.map((x) => x.cpuUsPerSignal)).toFixed(2)), rates: rates.map(Math.round) };
  });
  for (const s of summary) process.stdout.write(`${s.measure.padEnd(26)} median ${s.median_signals_per_s.toLocaleString('en-US')} signals/s (${s.min.toLocaleString('en-US')}–${s.max.toLocaleString('en-US')}), ${s.median_cpu_us_per_signal} µs CPU per signal\n`);
  const out = values.out ?? join(HERE, '..', '..', 'bench', 'results', `produce-${values.quick ? 'quick' : 'full'}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ benchmark: 'produce', signals: n, rounds, round_size: ROUND, max_pending_rounds: MAX_PENDING, machine: machine(), summary }, null, 2)}\n`);
}

await main();
