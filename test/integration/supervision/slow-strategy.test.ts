import { describe, expect, it } from 'vitest';
import type { StrategyConfigInput } from '../../../src/config/strategy-config.js';
import type { Signal } from '../../../src/domain/signal.js';
import { MemorySignalSink, MemoryTickSource } from '../../../src/io/memory.js';
import { ticksOnly } from '../../../src/io/interleave.js';
import { Pipeline } from '../../../src/pipeline/pipeline.js';
import { configs, memoryLogger, newSupervisor, signalsOf } from '../../helpers/runtime.js';
import { randomWalk } from '../../helpers/ticks.js';

const TOKENS = [1, 2, 3, 4];
const ticks = randomWalk(TOKENS, 4000, 21);
const wellBehaved: StrategyConfigInput[] = [
  { id: 'mom', strategy_type: 'SimpleMomentumStrategy', instruments: TOKENS, parameters: { lookback_period: 5, momentum_threshold: 0.002 } },
  { id: 'mr', strategy_type: 'MeanReversionStrategy', instruments: TOKENS, parameters: { lookback_period: 10, deviation_threshold: 1.2 } },
];
const byStrategy = (list: Signal[], id: string): string[] => list.filter((s) => s.strategy_id === id).map((s) => s.signal_id);

describe('a slow strategy (live, streaming dispatch)', { timeout: 60_000 }, () => {
  it('has its ticks conflated to the newest per instrument while the others see every tick and emit exactly what they emit alone', async () => {
    const alone = await signalsOf(wellBehaved, ticks);
    const { supervisor } = await newSupervisor({ supervision: { maxQueuedBatches: 2, overload: { behindAfterMs: 100 } } });
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
});
