import type { Signal, SignalIntent } from '../../src/domain/signal.js';
import { signalId } from '../../src/domain/signal.js';
import type { Tick } from '../../src/domain/tick.js';
import { RunnerError } from '../../src/errors.js';
import type { TickOutput } from '../../src/strategies/sdk/types.js';

/** onTick output → a list of intents; anything else is the strategy's error. */
export function intentsOf(out: TickOutput, strategyId: string): readonly SignalIntent[] {
  if (out === undefined || out === null) return EMPTY;
  if (Array.isArray(out)) return out as readonly SignalIntent[];
  if (typeof out === 'object' && typeof (out as { then?: unknown }).then === 'function') {
    // Its rejection must not go unhandled: that would end the thread and every strategy on it.
    (out as unknown as PromiseLike<unknown>).then(undefined, () => {});
    throw new RunnerError('STRATEGY_OUTPUT_INVALID', `strategy '${strategyId}': onTick returned a Promise; onTick must be synchronous`, {
      details: { strategy_id: strategyId },
    });
  }
  return [out as SignalIntent];
}

const EMPTY: readonly SignalIntent[] = Object.freeze([]);

/** Checks one intent; returns a reason when it is unusable. */
export function invalidIntent(intent: unknown): string | undefined {
  if (typeof intent !== 'object' || intent === null) return `a signal intent must be an object, got ${intent === null ? 'null' : typeof intent}`;
  const i = intent as Record<string, unknown>;
  if (i['side'] !== 'BUY' && i['side'] !== 'SELL') return `side must be "BUY" or "SELL", got ${JSON.stringify(i['side'])}`;
  const q = i['quantity'];
  if (q !== undefined && !(typeof q === 'number' && q > 0 && Number.isFinite(q))) return `quantity must be a finite number > 0, got ${JSON.stringify(q)}`;
  const r = i['reason'];
  if (r !== undefined && typeof r !== 'string') return `reason must be a string, got ${typeof r}`;
  return undefined;
}

/**
 * The signals of one intent: one per broker the strategy lists. Keys are
 * always created in the same order, so JSON.stringify output is byte-stable.
 */
export function buildSignals(
  intent: SignalIntent,
  emitIndex: number,
  tick: Tick,
  strategyId: string,
  strategyType: string,
  brokers: readonly string[],
  out: Signal[],
): void {
  for (const broker of brokers) {
    const s: Signal = {
      signal_id: signalId(strategyId, broker, tick.instrument_token, tick.timestamp, tick.last_price, emitIndex),
      strategy_id: strategyId,
      strategy_type: strategyType,
      instrument_token: tick.instrument_token,
      side: intent.side,
      quantity: intent.quantity ?? 1,
      price: tick.last_price,
      tick_timestamp: tick.timestamp,
      broker,
    };
    if (intent.reason !== undefined) s.reason = intent.reason;
    out.push(s);
  }
}
