import { describe, expect, it } from 'vitest';
import { HangWatchdog } from '../../../src/supervision/hang-watchdog.js';
import type { WorkerHost } from '../../../src/supervision/worker-host.js';
import { configs } from '../../helpers/runtime.js';
import { fakeContext } from './fake-context.js';

/** A host that was last heard of at `lastHeardAt`, running `slot`'s onTick (or nothing). */
function fakeHost(index: number, lastHeardAt: number, slot?: number, state = 'ready') {
  const terminated: Error[] = [];
  const host = {
    index,
    state,
    silentForMs: (now: number) => now - lastHeardAt,
    activeSlot: () => slot,
    terminate: async (err: Error) => void terminated.push(err),
  };
  return { host: host as unknown as WorkerHost, terminated };
}

function setup(hosts: WorkerHost[]) {
  const ctx = fakeContext({ hangTimeoutMs: 2000 });
  const [config] = configs([{ id: 'spinner', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 2 } }]);
  ctx.strategies.add(ctx.strategies.create(config!, 0)); // slot 0
  const dog = new HangWatchdog(ctx, () => [...hosts, undefined]);
  return { ctx, dog };
}

describe('HangWatchdog', () => {
  it('runs every hangTimeoutMs / 4 (100 ms to 1 s), only between start() and stop()', () => {
    const { dog } = setup([]);
    expect(dog.intervalMs).toBe(500);
    expect(dog.running).toBe(false);
    dog.start();
    expect(dog.running).toBe(true);
    dog.stop();
    expect(dog.running).toBe(false);
    expect(new HangWatchdog(fakeContext({ hangTimeoutMs: 100 }), () => []).intervalMs).toBe(100);
    expect(new HangWatchdog(fakeContext({ hangTimeoutMs: 60_000 }), () => []).intervalMs).toBe(1000);
  });

  it('terminates a ready thread silent for longer than hangTimeoutMs with WORKER_HUNG naming the strategy it is stuck in', () => {
    const now = Date.now();
    const hung = fakeHost(0, now - 2001, 0);
    const fine = fakeHost(1, now - 2000);
    const stopping = fakeHost(2, now - 9999, undefined, 'stopping');
    const { dog } = setup([hung.host, fine.host, stopping.host]);
    dog.start();
    try {
      dog.check(now);
      expect(hung.terminated).toHaveLength(1);
      expect(hung.terminated[0]).toMatchObject({ code: 'WORKER_HUNG', details: { thread: 0, strategy_id: 'spinner', silent_ms: 2001 } });
      expect(hung.terminated[0]!.message).toContain("(inside strategy 'spinner' onTick)");
      expect(fine.terminated).toEqual([]);
      expect(stopping.terminated).toEqual([]);
    } finally {
      dog.stop();
    }
  });

  it('skips one late run (the main thread itself was held up), but judges the next one, late or not', () => {
    const start = Date.now();
    const hung = fakeHost(0, start - 10_000);
    const { dog } = setup([hung.host]);
    dog.start();
    try {
      dog.check(start + 1500); // more than 2 × 500 ms since the last run: late, skipped
      expect(hung.terminated).toHaveLength(0);
      dog.check(start + 5000); // late again: judged
      expect(hung.terminated).toHaveLength(1);
    } finally {
      dog.stop();
    }
  });

  it('does nothing unless the supervisor is running', () => {
    const now = Date.now();
    const hung = fakeHost(0, now - 10_000);
    const { ctx, dog } = setup([hung.host]);
    ctx.life.to('stopping');
    dog.check(now);
    expect(hung.terminated).toEqual([]);
  });
});
