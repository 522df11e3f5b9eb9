import type { Logger } from 'pino';
import type { Tick } from '../domain/tick.js';
import type { StrategyEntry } from './strategy-entry.js';
import type { TickHistory } from './tick-history.js';
import type { WorkerHost } from './worker-host.js';

/** Ticks per re-warm batch. */
export const REWARM_CHUNK = 512;

/** Replay the kept recent ticks of the strategies' instruments to them, with no signals (never a poison tick). */
export async function rewarm(history: TickHistory, log: Logger, host: WorkerHost, entries: readonly StrategyEntry[]): Promise<void> {
  const wants = new Map<number, number[]>();
  for (const e of entries) for (const t of new Set(e.config.instruments)) (wants.get(t) ?? wants.set(t, []).get(t)!).push(e.slot);
  const poison = entries.map((e) => e.poison).filter((t): t is Tick => t !== undefined);
  const ticks = history.recent(wants.keys(), poison);
  if (ticks.length === 0) return;
  // In chunks, like live batches: one huge batch could outlast the hang timeout.
  for (let i = 0; i < ticks.length; i += REWARM_CHUNK) {
    const chunk = ticks.slice(i, i + REWARM_CHUNK);
    const routes: number[] = [];
    for (const t of chunk) {
      const slots = wants.get(t.instrument_token)!;
      routes.push(slots.length, ...slots);
    }
    const ok = await host.sendBatch(chunk, routes, true).then(
      () => true,
      (err: unknown) => {
        log.warn({ err }, 're-warm batch failed');
        return false;
      },
    );
    if (!ok) return;
  }
}
