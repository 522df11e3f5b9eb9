import { describe, it, expect } from 'vitest';
import pino from 'pino';
import { emptyPortfolio } from '../../../../src/domain/portfolio.js';
import type { Tick } from '../../../../src/domain/tick.js';
import type { Bar } from '../../../../src/strategies/engine/bars.js';
import { StrategyHost } from '../../../../src/strategies/engine/strategy-host.js';
import type { DriverOutput, DriverState } from '../../../../src/strategies/engine/strategy-driver.js';
import type { StrategyInstance } from '../../../../src/strategies/sdk/types.js';

const t = (instrument_token: number, timestamp: number, last_price: number): Tick => ({ instrument_token, timestamp, last_price, volume: 1 });

/** A strategy that logs what it sees: ticks, bars, timers. */
function recorder(log: string[]): StrategyInstance {
  return {
    onTick: (k) => void log.push(`tick ${k.instrument_token}@${k.timestamp}=${k.last_price}`),
    onBar: (b: Bar) => void log.push(`bar ${b.instrument_token} ${b.start}-${b.end} o${b.open} c${b.close} n${b.ticks}`),
    onTimer: (x) => void log.push(`timer ${x.name}@${x.at}`),
  };
}

function host(log: string[]) {
  const h = new StrategyHost({ id: 's', strategy_type: 'T', instruments: [1, 2], brokers: ['paper'] }, emptyPortfolio(0), pino({ level: 'silent' }));
  const d = h.renew([{ every: '1s' }, { ticks: 3 }]);
  d.instance = recorder(log);
  return { h, d };
}

const out = (): DriverOutput => ({ signals: [], fills: [], errors: [] });

// Two ticks at 2000 for instrument 1: a snapshot after the first of them must skip exactly one on the way back.
const TICKS = [t(1, 500, 10), t(2, 900, 20), t(1, 1200, 11), t(1, 2000, 12), t(1, 2000, 13), t(2, 2100, 21), t(1, 2600, 14), t(2, 3100, 22), t(1, 3500, 15)];

describe('StrategyDriver snapshots', () => {
  it('a restored driver continues exactly as an uninterrupted one: clock, timers, bars, and the ticks it had seen skipped', () => {
    const whole: string[] = [];
    const a = host(whole);
    a.d.schedule({ every: 1000, name: 'sec' });
    for (const k of TICKS) a.d.tick(k, true, out());

    for (let cut = 1; cut < TICKS.length; cut++) {
      const before: string[] = [];
      const b = host(before);
      b.d.schedule({ every: 1000, name: 'sec' });
      for (const k of TICKS.slice(0, cut)) b.d.tick(k, true, out());
      const state = JSON.parse(JSON.stringify(b.d.state())) as DriverState;

      const after: string[] = [];
      const c = host(after);
      c.d.schedule({ every: 1000, name: 'onStart-timer' }); // replaced by the snapshot's timers
      c.d.restore(state);
      // A restart re-reads from earlier than the cut (a warm-up): what the snapshot holds is skipped.
      for (const k of TICKS.slice(Math.max(0, cut - 3))) c.d.tick(k, true, out());
      expect([...before, ...after], `cut after tick ${cut}`).toEqual(whole);
    }
  });

  it('positions say, per instrument, the last timestamp seen and how many ticks had it', () => {
    const { d } = host([]);
    for (const k of TICKS.slice(0, 5)) d.tick(k, true, out());
    expect(d.positions()).toEqual({ '1': [2000, 2], '2': [900, 1] });
  });

  it('refuses a state that does not fit (bars declared differently)', () => {
    const { d } = host([]);
    d.tick(TICKS[0]!, true, out());
    const st = d.state();
    const other = new StrategyHost({ id: 's', strategy_type: 'T', instruments: [1, 2], brokers: ['paper'] }, emptyPortfolio(0), pino({ level: 'silent' })).renew([{ every: '1s' }]);
    expect(() => other.restore(st)).toThrow(/bar builders/);
    const none = new StrategyHost({ id: 's', strategy_type: 'T', instruments: [1, 2], brokers: ['paper'] }, emptyPortfolio(0), pino({ level: 'silent' })).renew(undefined);
    expect(() => none.restore(st)).toThrow(/has bars, this strategy declares none/);
  });
});
