import pino from 'pino';
import { emptyPortfolio } from '../../../src/domain/portfolio.js';
import type { Tick } from '../../../src/domain/tick.js';
import { StrategyHost } from '../../../src/strategies/engine/strategy-host.js';
import type { StrategyContext, TickContext } from '../../../src/strategies/sdk/types.js';

/** A minimal strategy context: silent logger, the given instruments, paper broker. */
export function fakeContext(strategyType: string, instruments: readonly number[] = [1, 2], strategyId = 'test-strategy'): StrategyContext {
  return new StrategyHost({ id: strategyId, strategy_type: strategyType, instruments, brokers: ['paper'] }, emptyPortfolio(0), pino({ level: 'silent' })).context;
}

export function fakeTickContext(ctx: StrategyContext): TickContext {
  return { ...ctx, portfolio: emptyPortfolio(0) };
}

let clock = 1_704_100_500_000;

/** A tick for `token` at `price`; timestamps increase by one second per call. */
export function tick(token: number, price: number): Tick {
  clock += 1000;
  return { instrument_token: token, last_price: price, timestamp: clock };
}
