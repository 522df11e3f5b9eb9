import type { Signal, SignalIntent } from '../../domain/signal.js';
import { signalId } from '../../domain/signal.js';
import type { Tick } from '../../domain/tick.js';
import { RunnerError } from '../../errors.js';
import type { TickOutput } from '../sdk/types.js';

/** A handler's output → a list of intents; anything else is the strategy's error. */
export function intentsOf(out: TickOutput, strategyId: string, hook = 'onTick'): readonly SignalIntent[] {
  if (out === undefined || out === null) return EMPTY;
  if (Array.isArray(out)) return out as readonly SignalIntent[];
  if (typeof out === 'object' && typeof (out as { then?: unknown }).then === 'function') {
    // Its rejection must not go unhandled: that would end the thread and every strategy on it.
    (out as unknown as PromiseLike<unknown>).then(undefined, () => {});
    throw new RunnerError('STRATEGY_OUTPUT_INVALID', `strategy '${strategyId}': ${hook} returned a Promise; ${hook} must be synchronous`, {
      details: { strategy_id: strategyId },
    });
  }
  return [out as SignalIntent];
}

const EMPTY: readonly SignalIntent[] = Object.freeze([]);

const INTENT_KEYS = new Set(['side', 'quantity', 'type', 'limit_price', 'time_in_force', 'tag', 'reason']);

/** Checks one intent; returns a reason when it is unusable. */
export function invalidIntent(intent: unknown): string | undefined {
  if (typeof intent !== 'object' || intent === null) return `a signal intent must be an object, got ${intent === null ? 'null' : typeof intent}`;
  const i = intent as Record<string, unknown>;
  if (i['side'] !== 'BUY' && i['side'] !== 'SELL') return `side must be "BUY" or "SELL", got ${JSON.stringify(i['side'])}`;
  const q = i['quantity'];
  if (q !== undefined && !(typeof q === 'number' && q > 0 && Number.isFinite(q))) return `quantity must be a finite number > 0, got ${JSON.stringify(q)}`;
  const r = i['reason'];
  if (r !== undefined && typeof r !== 'string') return `reason must be a string, got ${typeof r}`;
  const type = i['type'];
  const limit = i['limit_price'];
  if (type !== undefined && type !== 'MARKET' && type !== 'LIMIT') return `type must be "MARKET" or "LIMIT", got ${JSON.stringify(type)}`;
  if (type === 'LIMIT') {
    if (!(typeof limit === 'number' && limit > 0 && Number.isFinite(limit))) return `a LIMIT intent needs limit_price, a finite number > 0, got ${JSON.stringify(limit)}`;
  } else if (limit !== undefined) {
    return `limit_price is only for type "LIMIT" (this intent is ${type === undefined ? 'a MARKET one by default' : `"${String(type)}"`})`;
  }
  const tif = i['time_in_force'];
  if (tif !== undefined && tif !== 'GTC' && tif !== 'IOC') return `time_in_force must be "GTC" or "IOC", got ${JSON.stringify(tif)}`;
  const tag = i['tag'];
  if (tag !== undefined && !(typeof tag === 'string' && tag.length <= 64)) return `tag must be a string of at most 64 characters, got ${typeof tag === 'string' ? `${tag.length} characters` : typeof tag}`;
  // A typo ('limitPrice') must not vanish silently.
  for (const k in i) if (!INTENT_KEYS.has(k)) return `unknown field '${k}' (an intent has ${[...INTENT_KEYS].join(', ')})`;
  return undefined;
}

/** A tick as the origin of its onTick signals. */
export function tickOrigin(tick: Tick): SignalOrigin {
  return { instrument_token: tick.instrument_token, timestamp: tick.timestamp, price: tick.last_price };
}

/** Where a signal's instrument, time and price come from: the tick, or the bar or timer that produced it. */
export interface SignalOrigin {
  readonly instrument_token: number;
  readonly timestamp: number;
  readonly price: number;
  /** absent for onTick; 'bar 1m', 'timer rebalance' otherwise (it goes into the signal and its id) */
  readonly origin?: string;
}

/**
 * The signals of one intent: one per broker the strategy lists. Keys are
 * always created in the same order, so JSON.stringify output is byte-stable;
 * optional fields appear only when the intent had them.
 */
export function buildSignals(
  intent: SignalIntent,
  emitIndex: number,
  at: SignalOrigin,
  strategyId: string,
  strategyType: string,
  brokers: readonly string[],
  out: Signal[],
): void {
  const { price, origin } = at;
  for (const broker of brokers) {
    const s: Signal = {
      signal_id: signalId(strategyId, broker, at.instrument_token, at.timestamp, price, emitIndex, origin),
      strategy_id: strategyId,
      strategy_type: strategyType,
      instrument_token: at.instrument_token,
      side: intent.side,
      quantity: intent.quantity ?? 1,
      price,
      tick_timestamp: at.timestamp,
      broker,
    };
    if (intent.reason !== undefined) s.reason = intent.reason;
    if (intent.type !== undefined) s.order_type = intent.type;
    if (intent.limit_price !== undefined) s.limit_price = intent.limit_price;
    if (intent.time_in_force !== undefined) s.time_in_force = intent.time_in_force;
    if (intent.tag !== undefined) s.tag = intent.tag;
    if (origin !== undefined) s.origin = origin;
    out.push(s);
  }
}
