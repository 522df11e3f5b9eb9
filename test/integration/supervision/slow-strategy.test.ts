import { describe, expect, it } from 'vitest';
import type { StrategyConfigInput } from '../../../src/config/strategy-config.js';
import type { Signal } from '../../../src/domain/signal.js';
import { MemorySignalSink, MemoryTickSource } from '../../../src/transport/memory/memory-sources.js';
import { ticksOnly } from '../../../src/async/interleave.js';
import { Pipeline } from '../../../src/pipeline/pipeline.js';
import { configs, memoryLogger, newSupervisor, runStreaming, signalsOf, strategyStatus } from '../../helpers/runtime.js';
import { randomWalk } from '../../helpers/ticks.js';

const TOKENS = [1, 2, 3, 4];
const ticks = randomWalk(TOKENS, 4000, 21);
const stallAt = ticks[1000]!.last_price;
const wellBehaved: StrategyConfigInput[] = [
  { id: 'mom', strategy_type: 'SimpleMomentumStrategy', instruments: TOKENS, parameters: { lookback_period: 5, momentum_threshold: 0.002 } },
  { id: 'mr', strategy_type: 'MeanReversionStrategy', instruments: TOKENS, parameters: { lookback_period: 10, deviation_threshold: 1.2 } },
];
const byStrategy = (list: Signal[], id: string): string[] => list.filter((s) => s.strategy_id === id).map((s) => s.signal_id);

describe('a strategy that falls behind (live, streaming dispatch)', { timeout: 60_000 }, () => {
  it('has its ticks conflated to the newest per instrument while the others see every tick and emit exactly what they emit alone', async () => {
    const alone = await signalsOf(wellBehaved, ticks);
    // The 100 ms bound is the slow strategy's own: the others keep the default (10 s), so a host loaded by other
    // tests (a clean-clone CI run conflated 'mom' once, behind 100 ms with its 2 µs ticks) cannot shed them.
    const { supervisor } = await newSupervisor({ supervision: { maxQueuedBatches: 2, overload: { strategies: { slow: { behindAfterMs: 100 } } } } });
    try {
      await supervisor.start(configs([{ id: 'slow', strategy_type: 'Slow', instruments: TOKENS, parameters: { ms: 2 } }, ...wellBehaved]));
      const sink = new MemorySignalSink();
      const delivered: number[] = [];
      const pipeline = new Pipeline({ supervisor, sink, logger: memoryLogger('silent').logger, mode: 'streaming', maxPendingDeliveries: 1000 });
      const batches = new MemoryTickSource(ticks, 50);
      let n = 0;
      async function* withAcks() {
        for await (const b of ticksOnly(batches)) {
          const k = ++n;
          yield { ...b, kind: 'ticks' as const, ticks: (b as { ticks: typeof ticks }).ticks, onDelivered: () => delivered.push(k) };
        }
      }
      await pipeline.run(withAcks());
      // Every round was acknowledged, in order.
      expect(delivered).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
      for (const id of ['mom', 'mr']) expect(byStrategy(sink.signals, id)).toEqual(byStrategy(alone, id));
      const st = await supervisor.status();
      const slow = st.threads.flatMap((t) => t.strategies).find((s) => s['id'] === 'slow')!;
      const mom = st.threads.flatMap((t) => t.strategies).find((s) => s['id'] === 'mom')!;
      expect(mom['ticks_in']).toBe(4000);
      expect(slow['conflated_ticks']).toBeGreaterThan(0);
      // What the slow strategy saw plus what was replaced never exceeds the stream; it saw far less of it.
      expect((slow['ticks_in'] as number) + (slow['conflated_ticks'] as number)).toBeLessThanOrEqual(4000);
      expect(slow['ticks_in'] as number).toBeLessThan(4000);
      expect(st.totals['conflated_ticks']).toBe(slow['conflated_ticks']);
    } finally {
      await supervisor.stop();
    }
  });

  it('a strategy steadily too slow is shed once its thread has been behind without a break for longer than the bound, although no single batch of it is that old', async () => {
    // 1 ms a tick, batches of 50: each batch takes ~50 ms and at most 8 wait (the default maxQueuedBatches),
    // so no unfinished batch is ever older than ~400 ms; the thread is nonetheless behind all along.
    const slow: StrategyConfigInput = { id: 'slow', strategy_type: 'Slow', instruments: TOKENS, parameters: { ms: 1 } };
    const alone = await signalsOf(wellBehaved, ticks);
    const { supervisor } = await newSupervisor({ supervision: { overload: { behindAfterMs: 1000 } } });
    try {
      await supervisor.start(configs([slow, ...wellBehaved]));
      const got = await runStreaming(supervisor, ticks);
      for (const id of ['mom', 'mr']) expect(byStrategy(got, id)).toEqual(byStrategy(alone, id));
      const st = await strategyStatus(supervisor, 'slow');
      expect(st['behind_episodes']).toBeGreaterThan(0);
      expect(st['conflated_ticks']).toBeGreaterThan(0);
      expect(await strategyStatus(supervisor, 'mom')).toMatchObject({ ticks_in: 4000, conflated_ticks: 0 });
    } finally {
      await supervisor.stop();
    }
  });

  it('loses no tick to a transient stall (a GC pause, a busy machine): with the default bound nothing is conflated and the input waits', async () => {
    const stalls: StrategyConfigInput = { id: 'stalls', strategy_type: 'StallsOnce', instruments: TOKENS, parameters: { price: stallAt, ms: 2000 } };
    const alone = await signalsOf([stalls, ...wellBehaved], ticks);
    expect(byStrategy(alone, 'stalls').length).toBeGreaterThan(20);
    const { supervisor } = await newSupervisor();
    try {
      await supervisor.start(configs([stalls, ...wellBehaved]));
      const got = await runStreaming(supervisor, ticks);
      for (const id of ['stalls', 'mom', 'mr']) expect(byStrategy(got, id)).toEqual(byStrategy(alone, id));
      expect(await strategyStatus(supervisor, 'stalls')).toMatchObject({ ticks_in: 4000, conflated_ticks: 0, behind_episodes: 0, slow: false, overload_policy: 'conflate' });
    } finally {
      await supervisor.stop();
    }
  });

  it('per strategy: "hold" keeps the input waiting for it (every tick, exactly its signals), "conflate" sheds once it is behind for longer than its bound', async () => {
    const holder: StrategyConfigInput = { id: 'holder', strategy_type: 'Slow', instruments: TOKENS, parameters: { ms: 2 } };
    const shedder: StrategyConfigInput = { id: 'shedder', strategy_type: 'Slow', instruments: TOKENS, parameters: { ms: 3 } };
    const few = ticks.slice(0, 1500);
    const alone = await signalsOf([holder, ...wellBehaved], few);
    const { supervisor, lines } = await newSupervisor({
      supervision: { maxQueuedBatches: 2, overload: { policy: 'hold', behindAfterMs: 100, strategies: { shedder: { policy: 'conflate' } } } },
    });
    try {
      await supervisor.start(configs([holder, shedder, ...wellBehaved]));
      const got = await runStreaming(supervisor, few);
      for (const id of ['holder', 'mom', 'mr']) expect(byStrategy(got, id)).toEqual(byStrategy(alone, id));
      // Behind for longer than its bound too, but held: counted and logged, nothing shed.
      const held = await strategyStatus(supervisor, 'holder');
      expect(held).toMatchObject({ overload_policy: 'hold', ticks_in: 1500, conflated_ticks: 0, slow: false });
      expect(held['behind_episodes']).toBeGreaterThan(0);
      expect(lines.find((l) => l['msg'] === 'strategy thread is behind: holding the input back for it (overload policy "hold")')).toMatchObject({ strategies: ['holder'], policy: 'hold' });
      const shed = await strategyStatus(supervisor, 'shedder');
      expect(shed).toMatchObject({ overload_policy: 'conflate' });
      expect(shed['conflated_ticks']).toBeGreaterThan(0);
      expect(shed['behind_episodes']).toBeGreaterThan(0);
      expect((shed['ticks_in'] as number) + (shed['conflated_ticks'] as number)).toBeLessThanOrEqual(1500);
      const warned = lines.find((l) => l['msg'] === 'strategy thread is behind: conflating its ticks (newest per instrument) so it does not hold the others back');
      expect(warned).toMatchObject({ strategies: ['shedder'], policy: 'conflate', behind_after_ms: 100 });
      expect(warned!['behind_ms']).toBeGreaterThan(100);
    } finally {
      await supervisor.stop();
    }
  });
});
