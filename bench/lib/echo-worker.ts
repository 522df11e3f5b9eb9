/**
 * The transport baseline's thread: decodes each tick batch exactly as a
 * strategy thread does (tick-batch-codec), then answers; no strategy runs.
 */
import { parentPort } from 'node:worker_threads';
import { decodeTickBatch } from '../../src/protocol/tick-batch-codec.js';
import type { TickBatchWire } from '../../src/protocol/messages.js';

parentPort!.on('message', (m: TickBatchWire) => {
  const ticks = decodeTickBatch(m);
  let routed = 0;
  for (let k = 0; k < m.routes.length; ) {
    const n = m.routes[k++]!;
    routed += n;
    k += n;
  }
  parentPort!.postMessage(ticks.length + routed);
});
