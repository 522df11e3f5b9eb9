/**
 * The entry of a strategy thread, loaded by piscina. It only wires the ports
 * to the ThreadRuntime (workers/runtime/), where the testable code lives.
 * The piscina task lasts the thread's whole life: it resolves on shutdown.
 */
import { isMainThread } from 'node:worker_threads';
import { expose } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { RunnerError, serializeError } from '../src/errors.js';
import { PROTOCOL_VERSION, type ThreadTask, type ThreadTaskResult } from '../src/protocol/messages.js';
import { ThreadRuntime } from './runtime/thread-runtime.js';

if (isMainThread) {
  throw new Error('workers/strategy-thread.js is a worker-thread entry; the supervisor loads it, do not import it');
}

/**
 * The task of a thread that speaks `protocolVersion` (always PROTOCOL_VERSION
 * but in a test that plays a thread of another build). Another version is
 * reported as data, WORKER_PROTOCOL_MISMATCH with both versions: a throw
 * would reach the supervisor as a bare Error, seen as WORKER_EXITED.
 */
export function threadEntry(protocolVersion: number = PROTOCOL_VERSION): (task: ThreadTask) => Promise<ThreadTaskResult> {
  return async (task) => {
    if (task.protocolVersion !== protocolVersion) {
      const error = new RunnerError(
        'WORKER_PROTOCOL_MISMATCH',
        `the strategy thread speaks protocol ${protocolVersion}, the supervisor protocol ${task.protocolVersion}: the thread's code (dist/workers) is not from the supervisor's build; run \`npm run build\``,
        { details: { thread_protocol: protocolVersion, supervisor_protocol: task.protocolVersion } },
      );
      return { ok: false, error: serializeError(error) };
    }
    const runtime = new ThreadRuntime(task.dataPort, task.activity);
    expose(runtime, nodeEndpoint(task.controlPort as never));
    await runtime.finished;
    // Let comlink post shutdown()'s reply before the port closes.
    await new Promise((resolve) => setImmediate(resolve));
    task.controlPort.close();
    return { ok: true };
  };
}

export default threadEntry();
