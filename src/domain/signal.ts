import { createHash } from 'node:crypto';
import { z } from 'zod';
import { SideSchema, type Side } from './side.js';

export const ORDER_TYPES = ['MARKET', 'LIMIT'] as const;
export type OrderType = (typeof ORDER_TYPES)[number];
/** GTC: stands until filled (or the run ends); IOC: fills at once or not at all. */
export const TIMES_IN_FORCE = ['GTC', 'IOC'] as const;
export type TimeInForce = (typeof TIMES_IN_FORCE)[number];

/** What a strategy returns from onTick, onBar or onTimer: a decision, before the host stamps it. */
export interface SignalIntent {
  side: Side;
  /** Defaults to 1. Must be > 0 and finite. */
  quantity?: number;
  /** MARKET when absent */
  type?: OrderType;
  /** required for LIMIT, not allowed otherwise */
  limit_price?: number;
  time_in_force?: TimeInForce;
  /** the strategy's own label for the order (at most 64 characters) */
  tag?: string;
  reason?: string;
}

/** A trading signal as published to `{broker}.signals.raw` and written by replay. */
export const SignalSchema = z.object({
  signal_id: z.string(),
  strategy_id: z.string(),
  strategy_type: z.string(),
  instrument_token: z.number().int(),
  side: SideSchema,
  quantity: z.number().positive(),
  /** the last_price of the tick that produced the signal */
  price: z.number().positive(),
  /** epoch ms of that tick */
  tick_timestamp: z.number(),
  broker: z.string(),
  reason: z.string().optional(),
  order_type: z.enum(ORDER_TYPES).optional(),
  limit_price: z.number().positive().optional(),
  time_in_force: z.enum(TIMES_IN_FORCE).optional(),
  tag: z.string().max(64).optional(),
  /** what produced a signal that no tick did: 'bar 1m', 'timer rebalance' (absent: onTick) */
  origin: z.string().optional(),
});
export type Signal = z.infer<typeof SignalSchema>;

// RFC 4122 namespace for strategy-runner signal ids (a fixed random UUID).
const NAMESPACE = Buffer.from('6f1c3c1e5b7a4f0e9d2a8c4b3e1f0a7d', 'hex');

/**
 * Deterministic signal id (UUID version 5 layout): the same strategy, broker,
 * tick and emission index always give the same id, whether the tick came from
 * a file in replay or from Kafka live, and however often it is re-processed
 * after a restart. Downstream de-duplicates on it.
 * The tick is identified by content (instrument, timestamp, price), not by its
 * position in a stream, since positions differ between a file and a topic.
 */
export function signalId(
  strategyId: string,
  broker: string,
  instrumentToken: number,
  tickTimestamp: number,
  lastPrice: number,
  emitIndex: number,
  origin?: string,
): string {
  const key = `${strategyId}\u0000${broker}\u0000${instrumentToken}\u0000${tickTimestamp}\u0000${lastPrice}\u0000${emitIndex}`;
  const h = createHash('sha1')
    .update(NAMESPACE)
    .update(origin === undefined ? key : `${key}\u0000${origin}`)
    .digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.toString('hex', 0, 16);
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}
