#!/usr/bin/env node
// Can @confluentinc/kafka-javascript run in worker threads? (docs/kafka.md, "The client and worker threads")
// Starts two worker threads that each load the client (the main thread never does); with a broker and a
// topic given, each thread that loaded it also consumes COUNT messages of the topic (default 1,000; gives up after 20 s).
//   node scripts/probe-client-threads.cjs [BROKERS TOPIC [COUNT]]
// Prints one line per thread, then a JSON summary line: {"loaded": N, "refused": N, "consumed": [...]}.
'use strict';
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');

if (isMainThread) {
  const [brokers, topic, count] = process.argv.slice(2);
  const summary = { loaded: 0, refused: 0, errors: [], consumed: [] };
  let left = 2;
  for (let i = 0; i < 2; i++) {
    const w = new Worker(__filename, { workerData: { i, brokers, topic, count: Number(count ?? 1000) } });
    w.on('message', (m) => {
      process.stdout.write(`thread ${i}: ${m.text}\n`);
      if (m.kind === 'loaded') summary.loaded++;
      if (m.kind === 'refused') (summary.refused++, summary.errors.push(m.text));
      if (m.kind === 'consumed') summary.consumed.push(m.count);
    });
    w.on('error', (e) => process.stdout.write(`thread ${i} error: ${e.message}\n`));
    w.on('exit', () => {
      if (--left === 0) process.stdout.write(JSON.stringify(summary) + '\n');
    });
  }
} else {
  const say = (kind, text, extra = {}) => parentPort.postMessage({ kind, text, ...extra });
  let client;
  try {
    client = require('@confluentinc/kafka-javascript');
  } catch (e) {
    say('refused', `cannot load the client: ${e.message}`);
    return;
  }
  say('loaded', `loaded the client (librdkafka ${client.librdkafkaVersion})`);
  if (workerData.brokers === undefined || workerData.topic === undefined) return;
  const c = new client.KafkaConsumer(
    { 'bootstrap.servers': workerData.brokers, 'group.id': `probe-client-threads-${process.pid}-${workerData.i}`, 'enable.auto.commit': false },
    { 'auto.offset.reset': 'earliest' },
  );
  c.connect({ timeout: 10_000 }, (err) => {
    if (err) return say('error', `connect failed: ${err.message}`);
    c.subscribe([workerData.topic]);
    let n = 0;
    const t0 = Date.now();
    const loop = () =>
      c.consume(1000, (e, msgs) => {
        if (e) return say('error', `consume failed: ${e.message}`);
        n += msgs.length;
        if (n >= workerData.count || Date.now() - t0 > 20_000) {
          say('consumed', `consumed ${n} messages in ${Date.now() - t0} ms`, { count: n });
          c.disconnect(() => undefined);
        } else setImmediate(loop);
      });
    loop();
  });
}
