import { getHeapStatistics } from 'node:v8';
import { threadId } from 'node:worker_threads';
import { z } from 'zod';
import { defineStrategy } from '../../src/strategies/sdk/define-strategy.js';

/**
 * The memory benchmark's probe (bench/memory.ts): one instance per thread,
 * subscribed to an instrument no workload strategy trades. On each tick it
 * collects garbage in its own thread (when the process runs with
 * --expose-gc, which worker threads inherit) and answers with the thread's
 * V8 heap statistics, JSON in the signal's `reason`: the only way to read a
 * thread's heap through the runtime's public API without touching workers/.
 */
export const MemoryProbe = defineStrategy({
  type: 'BenchMemoryProbe',
  params: z.object({}),
  create() {
    return {
      onTick() {
        const gc = (globalThis as { gc?: () => void }).gc;
        gc?.();
        const h = getHeapStatistics();
        const m = process.memoryUsage();
        return {
          side: 'BUY',
          quantity: 1,
          reason: JSON.stringify({
            thread_id: threadId,
            gc: gc !== undefined,
            used_heap_size: h.used_heap_size,
            total_heap_size: h.total_heap_size,
            total_physical_size: h.total_physical_size,
            malloced_memory: h.malloced_memory,
            external_memory: h.external_memory,
            array_buffers: m.arrayBuffers,
          }),
        };
      },
    };
  },
});
