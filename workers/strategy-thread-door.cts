/**
 * The file piscina loads in a strategy thread: a CommonJS door to the ES
 * module entry (strategy-thread.ts). piscina first require()s its filename;
 * on Node 20.19+ require() of an ES module goes through the still
 * experimental synchronous ESM loader, which aborted the whole process now
 * and then when a hundred threads started at once
 * (`v8::Module::IsGraphAsync must be used on an instantiated module`). Through
 * this door require() loads plain CommonJS and the entry comes in by
 * import(), the ordinary asynchronous path.
 */
import type { ThreadTask, ThreadTaskResult } from '../src/protocol/messages.js';

export = async function strategyThread(task: ThreadTask): Promise<ThreadTaskResult> {
  const entry = (await import('./strategy-thread.js')) as { default: (t: ThreadTask) => Promise<ThreadTaskResult> };
  return entry.default(task);
};
