#!/usr/bin/env node
// Can @confluentinc/kafka-javascript run in worker threads? (docs/kafka.md, "The client and worker threads")
// Starts two worker threads that each load the client (the main thread never does); with a broker and a
// topic given, each thread that loaded it also consumes COUNT messages of the topic (default 1,000; gives up after 45 s).
//   node scripts/probe-client-threads.cjs [BROKERS TOPIC [COUNT]]
// Prints one line per thread, a JSON summary line ({"loaded": N, "refused": N, "errors": [...], "consumed": [...]})
// once both are done, then a line as each thread ends.
'use strict';
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');

if (isMainThread) {
  const [brokers, topic, count] = process.argv.slice(2);
  const summary = { loaded: 0, refused: 0, errors: [], consumed: [] };
  const consuming = brokers !== undefined && topic !== undefined;
  let finished = 0;
  // Each thread is done once refused, or loaded (and, with a broker, has consumed and disconnected, or failed).
  const done = () => {
    if (++finished < 2) return;
    // Printed before the threads end: the end of a thread holding the client can crash the process (docs/kafka.md).
    process.stdout.write(JSON.stringify(summary) + '\n');
  };
  for (let i = 0; i < 2; i++) {
    const w = new Worker(__filename, { workerData: { i, brokers, topic, count: Number(count ?? 1000) } });
    w.on('exit', (code) => process.stdout.write(`thread ${i}: ended (${code})\n`));
    w.on('message', (m) => {
      process.stdout.write(`thread ${i}: ${m.text}\n`);
      if (m.kind === 'loaded') summary.loaded++;
      if (m.kind === 'refused') (summary.refused++, summary.errors.push(m.text));
      if (m.kind === 'consumed') summary.consumed.push(m.count);
      if (m.kind === 'error') summary.errors.push(m.text);
      if (m.kind === 'refused' || m.kind === 'consumed' || m.kind === 'error' || (m.kind === 'loaded' && !consuming)) done();
    });
    w.on('error', (e) => {
      summary.errors.push(`thread ${i}: ${e.message}`);
      done();
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
        if (n >= workerData.count || Date.now() - t0 > 45_000) {
          const ms = Date.now() - t0;
          c.disconnect(() => say('consumed', `consumed ${n} messages in ${ms} ms, disconnected`, { count: n }));
        } else setImmediate(loop);
      });
    loop();
  });
}
