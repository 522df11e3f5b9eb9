import { describe, expect, it } from 'vitest';
import { configs } from '../../helpers/runtime.js';
import type { Tick } from '../../../src/domain/tick.js';
import { Conflation } from '../../../src/dispatch/conflation.js';
import type { WorkerHost } from '../../../src/supervision/worker-host.js';
import { fakeContext } from '../supervision/fake-context.js';

const tick = (token: number, price: number): Tick => ({ instrument_token: token, last_price: price, timestamp: 1_700_000_000_000 + price });
const host = (queueDepth: number, state = 'ready'): WorkerHost => ({ state, queueDepth }) as unknown as WorkerHost;

function setup(): { ctx: ReturnType<typeof fakeContext>; c: Conflation } {
  const ctx = fakeContext({ maxQueuedBatches: 2 });
  for (const [i, cfg] of configs([
    { id: 'a', strategy_type: 'EveryNth', instruments: [1, 2], parameters: { n: 2 } },
    { id: 'b', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 2 } },
  ]).entries()) {
    const e = ctx.strategies.create(cfg, 0);
    expect(e.slot).toBe(i);
    e.life.to('running');
    ctx.strategies.add(e);
  }
  return { ctx, c: new Conflation(ctx) };
}

describe('Conflation', () => {
  it('keeps the newest tick per strategy and instrument, counts the replaced ones, and sends them in arrival order', () => {
    const { ctx, c } = setup();
    // slot 0 (a) wants 1 and 2, slot 1 (b) wants 1
    c.add(0, { ticks: [tick(1, 10), tick(2, 20)], routes: [2, 0, 1, 1, 0], index: [0, 1] });
    c.add(0, { ticks: [tick(1, 11)], routes: [2, 0, 1], index: [0] });
    expect(c.has(0)).toBe(true);
    expect(ctx.totals.conflatedTicks).toBe(2);
    expect(ctx.strategies.get('a')!.conflatedTicks).toBe(1);
    expect(ctx.strategies.get('b')!.conflatedTicks).toBe(1);
    // No room: nothing is taken.
    expect(c.take(0, host(2))).toBeUndefined();
    expect(c.take(0, host(0, 'failed'))).toBeUndefined();
    const b = c.take(0, host(1))!;
    // 2@20 arrived before 1@11: per instrument the newest, overall in arrival order.
    expect(b.ticks).toEqual([tick(2, 20), tick(1, 11)]);
    expect(b.routes).toEqual([1, 0, 2, 0, 1]);
    expect(b.index).toEqual([0, 1]);
    expect(c.has(0)).toBe(false);
  });

  it('drops the ticks of a strategy no longer running, and everything of a forgotten thread', () => {
    const { ctx, c } = setup();
    c.add(0, { ticks: [tick(1, 10)], routes: [2, 0, 1], index: [0] });
    ctx.strategies.get('b')!.life.to('restarting');
    expect(c.take(0, host(0))!.routes).toEqual([1, 0]);
    c.add(0, { ticks: [tick(1, 12)], routes: [1, 0], index: [0] });
    c.delete(0);
    expect(c.take(0, host(0))).toBeUndefined();
  });
});
