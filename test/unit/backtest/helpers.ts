import type { Fill } from '../../../src/domain/fill.js';
import type { Tick } from '../../../src/domain/tick.js';

export const A = 256265;
export const B = 738561;

export function tick(timestamp: number, last_price: number, instrument_token = A): Tick {
  return { instrument_token, last_price, timestamp };
}

let seq = 0;

export function fill(
  strategy_id: string,
  timestamp: number,
  side: 'BUY' | 'SELL',
  quantity: number,
  price: number,
  options: { fee?: number; token?: number } = {},
): Fill {
  seq++;
  const f: Fill = { fill_id: `f-${seq}`, strategy_id, instrument_token: options.token ?? A, side, quantity, price, timestamp };
  if (options.fee !== undefined) f.fee = options.fee;
  return f;
}
