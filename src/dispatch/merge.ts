import type { Logger } from 'pino';
import type { Fill } from '../domain/fill.js';
import type { Signal } from '../domain/signal.js';
import { serializeError } from '../errors.js';
import type { BatchResultMessage } from '../protocol/messages.js';
import { batchLength, tickAt, type EncodedTickBatch } from '../protocol/tick-batch-codec.js';
import type { ErrorLogLimiter } from '../supervision/error-log-limiter.js';
import type { RoundResult, StrategyTickError } from '../supervision/reports.js';
import type { StrategyEntry } from '../supervision/strategy-entry.js';
import type { SupervisorTotals } from '../supervision/supervisor-context.js';

export interface MergeContext {
  readonly log: Logger;
  readonly errorLog: ErrorLogLimiter;
  readonly totals: SupervisorTotals;
  bySlot(slot: number): StrategyEntry | undefined;
  /** a strategy's thread reported an error on a tick, with its count of consecutive errors */
  onTickError(entry: StrategyEntry, consecutive: number, error: { code: string; message: string }): void;
}

/**
 * A batch as it went to a thread, as long as its answer is awaited: the
 * encoded ticks and routes (outside the JS heap) and where each of its ticks
 * stands in the round. No tick objects: a round in flight keeps none alive.
 */
export interface SentBatch {
  readonly enc: EncodedTickBatch;
  /** local tick index → round index */
  readonly index: readonly number[];
}

/**
 * Merge the answers of the threads to one round (or part of one) into one
 * list: signals ordered by tick, then strategy id, then emission order; a
 * batch lost with its thread becomes one error per strategy that lost ticks.
 */
export function mergeResults(
  c: MergeContext,
  sent: readonly SentBatch[],
  results: readonly (BatchResultMessage | Error)[],
  unrouted: number,
  emit: boolean,
): RoundResult {
  const keyed: { r: number; id: string; s: Signal }[] = [];
  const errors: StrategyTickError[] = [];
  let fills: { r: number; id: string; f: Fill }[] | undefined;
  for (let h = 0; h < results.length; h++) {
    const res = results[h]!;
    const b = sent[h]!;
    if (res instanceof Error) {
      // The thread died with this batch: every strategy it held for these ticks lost them.
      const ids = new Map<string, number>();
      const routes = b.enc.routes;
      for (let i = 0, k = 0, n = batchLength(b.enc); i < n; i++) {
        const count = routes[k++]!;
        for (let j = 0; j < count; j++) {
          const e = c.bySlot(routes[k++]!);
          if (e !== undefined) ids.set(e.config.id, (ids.get(e.config.id) ?? 0) + 1);
        }
      }
      for (const [id, lost] of ids) {
        c.totals.droppedTicks += lost;
        const error = serializeError(res);
        errors.push({ strategyId: id, tickIndex: -1, error });
        if (c.errorLog.allow(id)) c.log.warn({ strategy_id: id, code: error.code, err: error.message, suppressed: c.errorLog.suppressed(id) }, 'strategy failed on a tick');
      }
      continue;
    }
    if (emit) for (const e of res.signals) keyed.push({ r: b.index[e.i]!, id: e.signal.strategy_id, s: e.signal });
    if (res.fills !== undefined) for (const e of res.fills) (fills ??= []).push({ r: b.index[e.i]!, id: e.fill.strategy_id, f: e.fill });
    for (const e of res.errors) {
      const entry = c.bySlot(e.slot);
      const strategyId = entry?.config.id ?? `slot ${e.slot}`;
      errors.push({ strategyId, tickIndex: b.index[e.i]!, error: e.error });
      if (entry !== undefined) c.onTickError(entry, e.consecutive, e.error);
      if (c.errorLog.allow(strategyId)) {
        c.log.warn({ strategy_id: strategyId, code: e.error.code, err: e.error.message, tick: tickAt(b.enc, e.i), suppressed: c.errorLog.suppressed(strategyId) }, 'strategy failed on a tick');
      }
    }
  }
  // Stable sort: emission order within one strategy's tick is kept (signals are few: the sort is cheap).
  keyed.sort((a, b) => a.r - b.r || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const signals = keyed.map((k) => k.s);
  c.totals.signals += signals.length;
  c.totals.tickErrors += errors.length;
  if (fills === undefined) return { signals, errors, unrouted };
  fills.sort((a, b) => a.r - b.r || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { signals, errors, unrouted, fills: fills.map((x) => x.f) };
}
