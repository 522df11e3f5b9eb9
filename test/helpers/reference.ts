import pino from 'pino';
import type { StrategyConfig } from '../../src/config/strategy-config.js';
import { emptyPortfolio } from '../../src/domain/portfolio.js';
import type { Signal } from '../../src/domain/signal.js';
import type { Tick } from '../../src/domain/tick.js';
import type { StrategyRegistry } from '../../src/strategies/registry.js';
import { StrategyHost } from '../../src/strategies/engine/strategy-host.js';
import { buildSignals, intentsOf, tickOrigin } from '../../src/strategies/engine/signal-builder.js';

/**
 * The same strategies run in one thread with no supervisor, no routing table
 * and no workers: for each tick, every strategy that lists its instrument, in
 * strategy-id order. What replay must reproduce exactly.
 */
export function referenceSignals(registry: StrategyRegistry, cfgs: readonly StrategyConfig[], ticks: readonly Tick[]): Signal[] {
  const logger = pino({ level: 'silent' });
  const live = [...cfgs]
    .filter((c) => c.is_active)
    .sort((a, b) => (a.id < b.id ? -1 : 1))
    .map((c) => {
      const r = registry.resolve(c);
      const host = new StrategyHost(c, emptyPortfolio(0), logger);
      return { c, wants: new Set(c.instruments), inst: r.definition.create(r.params, host.context), tctx: host.tickContext };
    });
  const out: Signal[] = [];
  for (const tick of ticks) {
    for (const s of live) {
      if (!s.wants.has(tick.instrument_token)) continue;
      const intents = intentsOf(s.inst.onTick(tick, s.tctx), s.c.id);
      intents.forEach((intent, e) => buildSignals(intent, e, tickOrigin(tick), s.c.id, s.c.strategy_type, s.c.brokers, out));
    }
  }
  return out;
}
