import type { StrategyConfig } from '../../src/config/strategy-config.js';
import { RunnerError, serializeError } from '../../src/errors.js';
import type { ParamsUpdate, SavedState, SnapshotUse } from '../../src/protocol/messages.js';
import type { StrategyRegistry } from '../../src/strategies/registry.js';
import type { DriverState } from '../../src/strategies/engine/strategy-driver.js';
import { BASE_STRATEGY_BRAND } from '../../src/strategies/sdk/base-strategy.js';
import type { StrategySlot } from './strategy-slot.js';

/**
 * A strategy's state moving in and out of its slot, inside its thread:
 * snapshots taken (onSave and the driver's state) and loaded (onLoad and the
 * driver's), and new parameters taken live (onParams).
 */

/** The snapshots of the running strategies that have onSave; one that fails says why instead. */
export function saveSlots(slots: Iterable<StrategySlot>): SavedState[] {
  const states: SavedState[] = [];
  for (const slot of slots) {
    const inst = slot.instance;
    if (slot.state !== 'running' || inst === undefined || typeof inst.onSave !== 'function') continue;
    try {
      const strategy = inst.onSave();
      const state = JSON.stringify({ strategy, runtime: slot.driver.state() });
      states.push({ slot: slot.slot, strategyId: slot.config.id, state, instruments: slot.driver.positions() });
    } catch (err) {
      const e = new RunnerError('STRATEGY_OUTPUT_INVALID', `strategy '${slot.config.id}': onSave failed or returned what JSON cannot hold: ${(err as Error)?.message ?? String(err)}`, {
        cause: err,
        details: { strategy_id: slot.config.id },
      });
      states.push({ slot: slot.slot, strategyId: slot.config.id, error: serializeError(e) });
    }
  }
  return states;
}

/**
 * Continue from a snapshot: the strategy's onLoad, then the driver's own
 * state. When either throws, `fresh()` makes the instance again from scratch
 * (create, onStart) and the reason comes back: a bad snapshot never keeps a
 * strategy down.
 */
export function loadSnapshot(slot: StrategySlot, json: string, fresh: () => void): SnapshotUse {
  try {
    const parsed = JSON.parse(json) as { strategy?: unknown; runtime: DriverState };
    if (typeof slot.instance!.onLoad !== 'function') throw new Error('the strategy has no onLoad');
    slot.instance!.onLoad(parsed.strategy, slot.context);
    slot.driver.restore(parsed.runtime);
    return 'loaded';
  } catch (err) {
    const reason = (err as Error)?.message ?? String(err);
    slot.context.logger.warn({ reason }, 'snapshot discarded: starting afresh');
    fresh();
    return { discarded: reason };
  }
}

/**
 * New parameters for a running strategy: validated like the first ones,
 * handed to its onParams (a BaseStrategy's this.params replaced first).
 * 'unsupported' without onParams; throws a RunnerError when they are invalid
 * or onParams throws (the supervisor then restarts it with them).
 */
export function takeParams(slot: StrategySlot, registry: StrategyRegistry, config: StrategyConfig): ParamsUpdate {
  const inst = slot.instance!;
  if (typeof inst.onParams !== 'function') return 'unsupported';
  const next = registry.resolve(config).params;
  const previous = registry.resolve(slot.config).params;
  try {
    // A BaseStrategy reads this.params: it sees the new ones in onParams and after.
    if ((inst.constructor as unknown as Record<symbol, unknown>)[BASE_STRATEGY_BRAND] === true) (inst as unknown as { params: unknown }).params = next;
    inst.onParams(next, previous, slot.context);
  } catch (err) {
    throw new RunnerError('STRATEGY_START_FAILED', `strategy '${config.id}': onParams threw: ${(err as Error)?.message ?? String(err)}`, {
      cause: err,
      details: { strategy_id: config.id },
    });
  }
  slot.config = config;
  slot.context.logger.info('parameters taken live (onParams)');
  return 'applied';
}
