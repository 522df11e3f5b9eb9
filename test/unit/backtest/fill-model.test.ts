import { describe, it, expect } from 'vitest';
import { SimulatedExecution } from '../../../src/backtest/fill-model.js';
import type { Fill } from '../../../src/domain/fill.js';
import type { Signal } from '../../../src/domain/signal.js';

let n = 0;
function signal(side: 'BUY' | 'SELL', price: number, extra: Partial<Signal> = {}): Signal {
  n++;
  return { signal_id: `sig-${n}`, strategy_id: 's', strategy_type: 'T', instrument_token: 1, side, quantity: 10, price, tick_timestamp: 1000, broker: 'paper', ...extra };
}
const tick = (price: number, timestamp = 2000, instrument_token = 1) => ({ instrument_token, last_price: price, timestamp });

describe('SimulatedExecution', () => {
  it('same-tick: fills at the signal price with slippage and fee, stamped with the clock', () => {
    const sim = new SimulatedExecution({ model: 'same-tick', slippageBps: 10, feeBps: 5 });
    const f = sim.submit(signal('BUY', 100), 1000)!;
    // 100 × (1 + 10/10 000) = 100.1; fee 5/10 000 × 10 × 100.1 = 0.5005
    expect(f.price).toBeCloseTo(100.1, 12);
    expect(f.fee).toBeCloseTo(0.5005, 12);
    expect(f).toMatchObject({ fill_id: `sim-sig-${n}`, order_id: `sig-${n}`, strategy_id: 's', side: 'BUY', quantity: 10, timestamp: 1000, broker: 'paper' });
    const s = sim.submit(signal('SELL', 100), 1000)!;
    expect(s.price).toBeCloseTo(99.9, 12); // 100 × (1 − 0.001)
  });

  it('next-tick: a signal waits for the next tick of its instrument and fills at its last price', () => {
    const sim = new SimulatedExecution({ model: 'next-tick', slippageBps: 0, feeBps: 0 });
    expect(sim.submit(signal('BUY', 100), 1000)).toBeUndefined();
    const out: Fill[] = [];
    sim.match(tick(50, 1500, 2), 1500, out); // another instrument
    expect(out).toEqual([]);
    sim.match(tick(101, 2000), 2000, out);
    expect(out.map((f) => [f.price, f.timestamp])).toEqual([[101, 2000]]);
    expect(sim.waitingOrders).toBe(0);
    expect(sim.counts).toEqual({ orders: 1, filled: 1, expired: 0 });
  });

  it('a LIMIT order fills only at or better than its limit, capped at the limit after slippage', () => {
    const sim = new SimulatedExecution({ model: 'next-tick', slippageBps: 50, feeBps: 0 });
    sim.submit(signal('BUY', 100, { order_type: 'LIMIT', limit_price: 100 }), 1000);
    const out: Fill[] = [];
    sim.match(tick(100.5), 2000, out); // above the limit: rests (GTC by default)
    expect(out).toEqual([]);
    sim.match(tick(99.8, 3000), 3000, out); // 99.8 × 1.005 = 100.299 → capped at 100
    expect(out.map((f) => [f.price, f.timestamp])).toEqual([[100, 3000]]);
  });

  it('an IOC LIMIT order not reached at its one try expires', () => {
    const sim = new SimulatedExecution({ model: 'same-tick', slippageBps: 0, feeBps: 0 });
    expect(sim.submit(signal('SELL', 100, { order_type: 'LIMIT', limit_price: 101, time_in_force: 'IOC' }), 1000)).toBeUndefined();
    const out: Fill[] = [];
    sim.match(tick(102), 2000, out);
    expect(out).toEqual([]);
    expect(sim.counts.expired).toBe(1);
    expect(sim.waitingOrders).toBe(0);
  });

  it('hands fills over only once the clock has passed their time (ties go to the ticks)', () => {
    const sim = new SimulatedExecution({ model: 'same-tick', slippageBps: 0, feeBps: 0 });
    sim.submit(signal('BUY', 100), 1000);
    sim.submit(signal('SELL', 100), 1200);
    expect(sim.due(1000)).toBeUndefined();
    expect(sim.due(1200)!.map((f) => f.timestamp)).toEqual([1000]);
    expect(sim.rest().map((f) => f.timestamp)).toEqual([1200]);
  });
});
