import { describe, expect, it } from 'vitest';
import type { Tick } from '../../../src/domain/tick.js';
import { Router, type Routable } from '../../../src/routing/router.js';

const entry = (id: string, instruments: number[], host: number, slot: number, state = 'running', threadDown = false): Routable => ({
  config: { id, instruments },
  host,
  slot,
  state,
  threadDown,
  missedTicks: 0,
});
const tick = (token: number, price = 1): Tick => ({ instrument_token: token, last_price: price, timestamp: 1_700_000_000_000 });

function newRouter(): { router: Router; recorded: Tick[] } {
  const recorded: Tick[] = [];
  return { router: new Router({ record: (t) => recorded.push(t) }), recorded };
}

describe('Router', () => {
  it('routes a round into one batch per thread: the ticks each wants, their [n, ...slots] routes and their round index', () => {
    const { router, recorded } = newRouter();
    router.rebuild([entry('a', [1, 2], 0, 0), entry('b', [1], 0, 1), entry('c', [2], 2, 5)]);
    const ticks = [tick(1), tick(2), tick(9), tick(1)];
    const { batches, unrouted } = router.route(ticks, 3);
    expect(batches).toHaveLength(3);
    expect(batches[0]).toEqual({ ticks: [ticks[0], ticks[1], ticks[3]], routes: [2, 0, 1, 1, 0, 2, 0, 1], index: [0, 1, 3] });
    expect(batches[1]).toBeUndefined();
    expect(batches[2]).toEqual({ ticks: [ticks[1]], routes: [1, 5], index: [1] });
    expect(unrouted).toBe(1);
    // Every routed tick goes to the re-warm history once, an unwanted one not at all.
    expect(recorded).toEqual([ticks[0], ticks[1], ticks[3]]);
  });

  it('routes only running strategies (and those their thread took down); the others count their ticks as missed, not unrouted', () => {
    const { router, recorded } = newRouter();
    const away = entry('away', [7], 1, 2, 'restarting');
    const quarantined = entry('q', [7, 8], 1, 3, 'quarantined');
    const down = entry('down', [8], 0, 4, 'restarting', true);
    const stopped = entry('gone', [9], 0, 5, 'stopped');
    router.rebuild([away, quarantined, down, stopped]);
    expect(router.table.strategyCount).toBe(1);
    const ticks = [tick(7), tick(8), tick(9), tick(7)];
    const { batches, unrouted } = router.route(ticks, 2);
    expect(batches[0]).toEqual({ ticks: [ticks[1]], routes: [1, 4], index: [1] });
    expect(batches[1]).toBeUndefined();
    expect(unrouted).toBe(1); // only 9: nobody wants it, not even an absent strategy
    expect(away.missedTicks).toBe(2);
    expect(quarantined.missedTicks).toBe(3);
    expect(down.missedTicks).toBe(0);
    // The ticks absent strategies want stay in the history their re-warm reads.
    expect(recorded).toEqual([ticks[0], ticks[1], ticks[3]]);
  });

  it('swaps a whole new table on rebuild: a table already handed out is never changed', () => {
    const { router } = newRouter();
    const a = entry('a', [1], 0, 0);
    router.rebuild([a]);
    const before = router.table;
    router.rebuild([a, entry('b', [2], 0, 1)]);
    expect(before.instrumentCount).toBe(1);
    expect(router.table).not.toBe(before);
    expect(router.table.strategiesFor(2)).toEqual(['b']);
  });

  it('a strategy filter routes only the strategies it accepts, with one table per filter key, rebuilt after each change', () => {
    const { router } = newRouter();
    router.rebuild([entry('a', [1], 0, 0), entry('b', [1], 1, 0)]);
    let asked = 0;
    const onlyB = { key: 'b', accepts: (id: string) => (asked++, id === 'b') };
    const r1 = router.route([tick(1)], 2, onlyB);
    expect(r1.batches[0]).toBeUndefined();
    expect(r1.batches[1]?.ticks).toHaveLength(1);
    router.route([tick(1)], 2, onlyB);
    expect(asked).toBe(2); // built once for the key: one question per placement
    router.rebuild([entry('a', [1], 0, 0), entry('b', [1], 1, 0), entry('b2', [1], 1, 1)]);
    expect(router.route([tick(1)], 2, onlyB).batches[1]?.routes).toEqual([1, 0]);
    expect(asked).toBe(5);
  });

  it('records unrouted ticks in the history when asked (a sharded runner), and nothing for ticks re-read behind the live stream', () => {
    const recorded: Tick[] = [];
    const router = new Router({ record: (t) => recorded.push(t) }, { recordUnrouted: true });
    router.rebuild([entry('a', [1], 0, 0)]);
    const live = [tick(1), tick(2)];
    router.route(live, 1);
    expect(recorded).toEqual(live);
    router.route([tick(1, 5), tick(2, 5)], 1, undefined, false);
    expect(recorded).toEqual(live);
  });
});
