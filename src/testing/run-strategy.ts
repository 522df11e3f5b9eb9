import pino, { type Logger } from 'pino';
import { FILL_MODELS, SimulatedExecution, type FillModel } from '../backtest/fill-model.js';
import { decodeFillValue, inTimeOrder, type Fill } from '../domain/fill.js';
import { applyFill, emptyPortfolio, type PortfolioView } from '../domain/portfolio.js';
import type { Signal } from '../domain/signal.js';
import { decodeTickValue, type Tick } from '../domain/tick.js';
import { RunnerError, type SerializedError, serializeError } from '../errors.js';
import { StrategyHost } from '../strategies/engine/strategy-host.js';
import type { DriverOutput } from '../strategies/engine/strategy-driver.js';
import { StrategyRegistry } from '../strategies/registry.js';
import type { AnyStrategyDefinition } from '../strategies/sdk/types.js';
import { isStrategyClass, definitionFromClass, type StrategyClass } from '../strategies/sdk/base-strategy.js';

export interface RunStrategyOptions {
  /** the configuration's `parameters` (validated by the definition's schema, unknown keys refused, as in a real start) */
  params?: Record<string, unknown>;
  /** ticks in file order, as on the wire (timestamps as epoch ms or ISO strings) or decoded */
  ticks: Iterable<unknown>;
  /** fills to apply, as replay --fills does: each after every tick stamped at or before it */
  fills?: Iterable<unknown>;
  /** simulate fills of the strategy's own signals, as the backtest does */
  fillModel?: FillModel | { model?: FillModel; slippageBps?: number; feeBps?: number };
  /** default: every instrument in the ticks, ascending */
  instruments?: readonly number[];
  /** default 'test' */
  id?: string;
  /** default ['paper'] */
  brokers?: readonly string[];
  initialCash?: number;
  /** default: silent */
  logger?: Logger;
}

export interface StrategyRunError {
  /** index of the tick (in `ticks`) it happened on; −1 for an external fill's onFill; ticks.length at the end */
  tick: number;
  /** code, message and details (no stack: the same input gives the same output) */
  error: Omit<SerializedError, 'stack'>;
}

export interface StrategyRun {
  /** in emission order, exactly as replay and backtest write them */
  signals: Signal[];
  /** simulated fills (with a fill model), in the order they were decided */
  fills: Fill[];
  /** the portfolio at the end (simulated fills still in flight at the end included, as the backtest reports them) */
  portfolio: PortfolioView;
  errors: StrategyRunError[];
}

/**
 * Run one strategy in-process, without threads, through the same driver as
 * `run`, `replay` and `backtest` (clock, timers, bars, intents, simulated
 * fills): the same ticks, parameters and fills give the same signals as
 * replay (a strategy that throws is not restarted here: its errors are
 * collected and it goes on). For strategy authors' unit tests:
 *
 * ```ts
 * const run = await runStrategy(Breakout, { params: { window: 3 }, ticks });
 * expect(run.signals.map((s) => s.side)).toEqual(['BUY', 'SELL']);
 * ```
 */
export async function runStrategy(strategy: AnyStrategyDefinition | StrategyClass, options: RunStrategyOptions): Promise<StrategyRun> {
  const definition = isStrategyClass(strategy) ? definitionFromClass(strategy) : strategy;
  const registry = new StrategyRegistry({ builtins: false });
  registry.register(definition, 'runStrategy');
  const ticks = decodeAll(options.ticks, 'tick', (v) => {
    const d = decodeTickValue(typeof v === 'object' && v !== null ? { ...v } : v);
    return d.ok ? { ok: true, value: d.tick } : d;
  });
  const fills = decodeAll(options.fills ?? [], 'fill', (v) => {
    const d = decodeFillValue(v);
    return d.ok ? { ok: true, value: d.fill } : d;
  });
  const order = inTimeOrder(fills);
  const id = options.id ?? 'test';
  const instruments = options.instruments ?? [...new Set(ticks.map((t) => t.instrument_token))].sort((a, b) => a - b);
  const config = {
    id,
    strategy_type: definition.type,
    instruments: [...instruments],
    parameters: options.params ?? {},
    is_active: true,
    brokers: [...(options.brokers ?? ['paper'])],
  };
  const resolved = registry.resolve(config);
  const sim = simulation(options.fillModel);
  const host = new StrategyHost(config, emptyPortfolio(options.initialCash ?? 0), options.logger ?? pino({ level: 'silent' }), sim);
  const driver = host.renew(definition.bars);
  const instance = definition.create(resolved.params, host.context);
  driver.instance = instance;
  await instance.onStart?.(host.context);

  const run: StrategyRun = { signals: [], fills: [], portfolio: host.portfolio, errors: [] };
  const out: DriverOutput = { signals: run.signals, fills: run.fills, errors: [] };
  const wants = new Set(instruments);
  let f = 0;
  const seen = new Set<string>();
  const applyExternal = (fill: Fill): void => {
    // As the runner's book: another strategy's fill, or one already applied (same fill_id), changes nothing.
    if (fill.strategy_id !== id || seen.has(fill.fill_id)) return;
    seen.add(fill.fill_id);
    driver.deliverFill(fill, out, applyFill(host.portfolio, fill));
    for (const e of out.errors.splice(0)) run.errors.push({ tick: -1, error: plain(e) });
  };
  for (let i = 0; i < ticks.length; i++) {
    const tick = Object.freeze(ticks[i]!);
    while (f < order.length && order[f]!.timestamp < tick.timestamp) applyExternal(order[f++]!);
    if (!wants.has(tick.instrument_token)) continue;
    driver.tick(tick, true, out);
    for (const e of out.errors.splice(0)) run.errors.push({ tick: i, error: plain(e) });
  }
  while (f < order.length) applyExternal(order[f++]!);
  driver.finish(out);
  for (const e of out.errors.splice(0)) run.errors.push({ tick: ticks.length, error: plain(e) });
  await instance.onStop?.(host.context);
  run.portfolio = host.portfolio;
  return run;
}

function plain(e: unknown): Omit<SerializedError, 'stack'> {
  const { stack: _stack, ...rest } = serializeError(e);
  return rest;
}

function simulation(m: RunStrategyOptions['fillModel']): SimulatedExecution | undefined {
  if (m === undefined) return undefined;
  const o = typeof m === 'string' ? { model: m } : m;
  const model = o.model ?? 'next-tick';
  if (!FILL_MODELS.includes(model)) throw new RunnerError('CONFIG_INVALID', `runStrategy: fillModel must be one of ${FILL_MODELS.join(', ')}, got ${JSON.stringify(model)}`);
  return new SimulatedExecution({ model, slippageBps: o.slippageBps ?? 0, feeBps: o.feeBps ?? 0 });
}

function decodeAll<T>(input: Iterable<unknown>, what: string, decode: (v: unknown) => { ok: true; value: T } | { ok: false; reason: string }): T[] {
  const out: T[] = [];
  let i = 0;
  for (const v of input) {
    const d = decode(v);
    if (!d.ok) throw new RunnerError(what === 'tick' ? 'TICK_INVALID' : 'FILL_INVALID', `runStrategy: ${what} #${i} is invalid: ${d.reason}`, { details: { index: i } });
    out.push(d.value);
    i++;
  }
  return out;
}
