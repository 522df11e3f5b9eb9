/**
 * The entry of a strategy thread, loaded by piscina. It only wires the ports
 * to the ThreadRuntime (workers/runtime/), where the testable code lives.
 * The piscina task lasts the thread's whole life: it resolves on shutdown.
 */
import { isMainThread } from 'node:worker_threads';
import { expose } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { PROTOCOL_VERSION, type ThreadTask } from '../src/protocol/messages.js';
import { ThreadRuntime } from './runtime/thread-runtime.js';

if (isMainThread) {
  throw new Error('workers/strategy-thread.js is a worker-thread entry; the supervisor loads it, do not import it');
}

export default async function hostStrategies(task: ThreadTask): Promise<void> {
  if (task.protocolVersion !== PROTOCOL_VERSION) {
    throw new Error(`strategy thread speaks protocol ${PROTOCOL_VERSION}, the supervisor sent ${task.protocolVersion}`);
  }
  const runtime = new ThreadRuntime(task.dataPort, task.activity);
  expose(runtime, nodeEndpoint(task.controlPort as never));
  await runtime.finished;
  // Let comlink post shutdown()'s reply before the port closes.
  await new Promise((resolve) => setImmediate(resolve));
  task.controlPort.close();
}
