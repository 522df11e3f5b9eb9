import type { Fill } from '../domain/fill.js';
import type { Signal } from '../domain/signal.js';
import type { Tick } from '../domain/tick.js';

export const FILL_MODELS = ['next-tick', 'same-tick'] as const;
export type FillModel = (typeof FILL_MODELS)[number];

/** How a backtest turns signals into fills (sent to each strategy thread with its init). */
export interface FillModelOptions {
  readonly model: FillModel;
  /** a BUY fills at price × (1 + bps/10,000), a SELL at price × (1 − bps/10,000) */
  readonly slippageBps: number;
  /** commission: bps/10,000 × quantity × fill price, charged in cash */
  readonly feeBps: number;
}

interface Order {
  readonly signal: Signal;
  /** a LIMIT order already tried once: an IOC one expires at its first miss */
  tried: boolean;
}

/** What happened to the orders of one strategy in a backtest. */
export interface ExecutionCounts {
  orders: number;
  filled: number;
  /** IOC limit orders whose price was not reached at their one try */
  expired: number;
}

/**
 * The simulated market of one strategy in a backtest, inside its thread:
 * each signal is an order; `next-tick` fills it at the last price of the
 * next tick of its instrument that the strategy receives after it was
 * emitted, `same-tick` at the signal's own price. A LIMIT order fills only
 * at a price at or better than its limit (a BUY at ≤ limit, a SELL at ≥
 * limit), at the slipped price capped at the limit; a GTC one that is not
 * reached rests and is tried at each later tick of its instrument, an IOC
 * one expires. A fill is stamped with the strategy's event time when it is
 * decided and reaches the strategy (onFill) by the same rule as replay's
 * fills: after every tick stamped at or before it.
 */
export class SimulatedExecution {
  readonly #o: FillModelOptions;
  /** resting or waiting orders, by instrument, in submission order */
  readonly #orders = new Map<number, Order[]>();
  /** fills decided and not yet handed to the strategy, in order */
  readonly #undelivered: Fill[] = [];
  readonly counts: ExecutionCounts = { orders: 0, filled: 0, expired: 0 };

  constructor(options: FillModelOptions) {
    this.#o = options;
  }

  /** A new order from a signal; `now` is the strategy's clock. A same-tick fill is returned at once (and queued for delivery). */
  submit(signal: Signal, now: number): Fill | undefined {
    this.counts.orders++;
    const order: Order = { signal, tried: false };
    if (this.#o.model === 'same-tick') {
      const f = this.#try(order, signal.price, now);
      if (f !== undefined || order.tried === false) return f;
    }
    let list = this.#orders.get(signal.instrument_token);
    if (list === undefined) this.#orders.set(signal.instrument_token, (list = []));
    list.push(order);
    return undefined;
  }

  /** The orders on this tick's instrument try its price; fills go to `out`. */
  match(tick: Tick, now: number, out: Fill[]): void {
    const list = this.#orders.get(tick.instrument_token);
    if (list === undefined || list.length === 0) return;
    let keep = 0;
    for (let i = 0; i < list.length; i++) {
      const order = list[i]!;
      const f = this.#try(order, tick.last_price, now);
      if (f !== undefined) out.push(f);
      else if (order.tried) list[keep++] = order;
    }
    list.length = keep;
  }

  /** Fills whose time the strategy's clock has passed (`t` is the timestamp of the tick about to be handled). */
  due(t: number): Fill[] | undefined {
    const u = this.#undelivered;
    if (u.length === 0 || u[0]!.timestamp >= t) return undefined;
    let n = 0;
    while (n < u.length && u[n]!.timestamp < t) n++;
    return u.splice(0, n);
  }

  /** Every fill decided and not handed over yet (the end of a run). */
  rest(): Fill[] {
    return this.#undelivered.splice(0);
  }

  get waitingOrders(): number {
    let n = 0;
    for (const l of this.#orders.values()) n += l.length;
    return n;
  }

  /** Try to fill at `price`: the fill, or undefined (then `order.tried` says whether it stays: true = rests). */
  #try(order: Order, price: number, now: number): Fill | undefined {
    const s = order.signal;
    const buy = s.side === 'BUY';
    const limit = s.order_type === 'LIMIT' ? s.limit_price : undefined;
    if (limit !== undefined && (buy ? price > limit : price < limit)) {
      if (s.time_in_force === 'IOC') {
        this.counts.expired++;
        order.tried = false;
      } else {
        order.tried = true;
      }
      return undefined;
    }
    const k = this.#o.slippageBps / 10_000;
    let fillPrice = buy ? price * (1 + k) : price * (1 - k);
    if (limit !== undefined) fillPrice = buy ? Math.min(fillPrice, limit) : Math.max(fillPrice, limit);
    const fill: Fill = {
      fill_id: `sim-${s.signal_id}`,
      order_id: s.signal_id,
      strategy_id: s.strategy_id,
      instrument_token: s.instrument_token,
      side: s.side,
      quantity: s.quantity,
      price: fillPrice,
      timestamp: now,
      broker: s.broker,
      fee: (this.#o.feeBps / 10_000) * s.quantity * fillPrice,
    };
    this.counts.filled++;
    this.#undelivered.push(fill);
    return fill;
  }
}
