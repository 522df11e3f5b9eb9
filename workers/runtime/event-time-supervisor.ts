import { RunnerError, serializeError } from '../../src/errors.js';
import type { Tick } from '../../src/domain/tick.js';
import type { EventTimeSupervision, SupervisionEvent } from '../../src/protocol/messages.js';
import { decideRestart } from '../../src/supervision/restart-policy.js';
import { TickHistory } from '../../src/supervision/tick-history.js';
import type { StrategyInstance } from '../../src/strategies/sdk/types.js';
import type { DriverOutput } from '../../src/strategies/engine/strategy-driver.js';
import type { StrategySlot } from './strategy-slot.js';

/**
 * Supervision inside a strategy thread, by event time (replay). Each
 * decision depends on the strategy's own ticks only, never on when a batch
 * happened to be answered, so the same input gives the same output whatever
 * the timing, the pool and the batch size:
 *  - a strategy failing `maxConsecutiveErrors` ticks in a row is retired right
 *    after the tick that made it so (it sees no further tick);
 *  - the restart policy runs on the tick's timestamp: the back-off and the
 *    intensity window are event time; too many restarts quarantine it;
 *  - it restarts at its first tick at or after `resumeAt`: a new instance,
 *    re-warmed with the last `rewarmTicks` ticks of each of its instruments
 *    that this thread saw before that tick (the ticks it missed included),
 *    then that tick; the ticks in between are missed (counted).
 * The thread reports each decision with the batch's result; the supervisor
 * only mirrors them in its status.
 */
export class EventTimeSupervisor {
  readonly #o: EventTimeSupervision;
  readonly #history: TickHistory;
  readonly #create: (slot: StrategySlot) => StrategyInstance;
  /** a re-warm's output: nothing is kept (the driver builds no signals when it does not emit) */
  readonly #discard: DriverOutput = { signals: [], fills: [], errors: [] };

  /** `create`: a new instance for the slot's configuration (throws a RunnerError when it cannot) */
  constructor(options: EventTimeSupervision, create: (slot: StrategySlot) => StrategyInstance) {
    this.#o = options;
    this.#history = new TickHistory(options.rewarmTicks);
    this.#create = create;
  }

  get maxConsecutiveErrors(): number {
    return this.#o.maxConsecutiveErrors;
  }

  /** Every tick of a live batch, once all its strategies have run it. */
  record(tick: Tick): void {
    this.#history.record(tick);
  }

  /** Take the failing instance out at this tick and decide, by its timestamp, when it comes back (or never). */
  retire(slot: StrategySlot, tick: Tick, i: number, reason: string, events: SupervisionEvent[]): void {
    const d = decideRestart(this.#o.restart, slot.recentRestarts, tick.timestamp);
    const old = slot.instance;
    slot.instance = undefined;
    slot.life.to('down');
    if (old !== undefined) slot.stopping = this.#hook(slot, 'onStop', () => old.onStop?.(slot.context), (err) => slot.context.logger.warn({ err }, 'onStop threw'));
    if (d.action === 'quarantine') {
      slot.resumeAt = Infinity;
      events.push({ slot: slot.slot, i, kind: 'quarantined', reason: `${d.recent} restarts within ${this.#o.restart.windowMs} ms of event time; last: ${reason}`, restarts: slot.restarts });
      return;
    }
    slot.resumeAt = tick.timestamp + d.delayMs;
    events.push({ slot: slot.slot, i, kind: 'retired', reason, resumeAt: slot.resumeAt, delayMs: d.delayMs, restarts: slot.restarts });
  }

  /**
   * A tick for a strategy that is down: false = it misses this tick; true =
   * it was restarted for this very tick; a promise = an async onStop or
   * onStart must finish first: ask again when it settles.
   */
  comeBack(slot: StrategySlot, tick: Tick, i: number, events: SupervisionEvent[]): boolean | Promise<void> {
    if (tick.timestamp < slot.resumeAt) return false;
    const stopping = slot.stopping;
    if (stopping !== undefined) {
      return stopping.then(() => {
        if (slot.stopping === stopping) slot.stopping = undefined;
      });
    }
    slot.restarts++;
    let instance: StrategyInstance;
    let started: unknown;
    try {
      instance = this.#create(slot);
      started = instance.onStart?.(slot.context);
    } catch (err) {
      this.retire(slot, tick, i, restartFailed(slot, err), events);
      return false;
    }
    if (!isThenable(started)) {
      this.#back(slot, instance, i, events);
      return true;
    }
    return withDeadline(started, this.#o.hookTimeoutMs, `strategy '${slot.config.id}' onStart`).then(
      () => this.#back(slot, instance, i, events),
      (err: unknown) => this.retire(slot, tick, i, restartFailed(slot, err), events),
    );
  }

  #back(slot: StrategySlot, instance: StrategyInstance, i: number, events: SupervisionEvent[]): void {
    const warm = this.#history.recent(slot.config.instruments);
    // Re-warm through its new driver (clock, timers, bars): the strategy sees the ticks; its signals and errors are not news.
    const driver = slot.driver;
    for (const t of warm) driver.tick(Object.freeze(t), false, this.#discard);
    slot.instance = instance;
    slot.life.to('running');
    slot.consecutiveErrors = 0;
    events.push({ slot: slot.slot, i, kind: 'restarted', reason: `re-warmed from ${warm.length} ticks`, restarts: slot.restarts });
  }

  /** Run a hook; a promise it returns gets the hook deadline (a hook that never settles must not stall the thread). */
  #hook(slot: StrategySlot, name: string, fn: () => unknown, onError: (err: unknown) => void): Promise<void> | undefined {
    try {
      const r = fn();
      if (isThenable(r)) return withDeadline(r, this.#o.hookTimeoutMs, `strategy '${slot.config.id}' ${name}`).catch(onError);
    } catch (err) {
      onError(err);
    }
    return undefined;
  }
}

function restartFailed(slot: StrategySlot, err: unknown): string {
  const e = serializeError(
    err instanceof RunnerError
      ? err
      : new RunnerError('STRATEGY_START_FAILED', `strategy '${slot.config.id}' failed to start: ${(err as Error)?.message ?? String(err)}`, { cause: err }),
  );
  return `restart failed: [${e.code}] ${e.message}`;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof (v as PromiseLike<unknown> | undefined)?.then === 'function';
}

function withDeadline(p: PromiseLike<unknown>, ms: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RunnerError('WORKER_UNRESPONSIVE', `${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([Promise.resolve(p), deadline]).then(
    () => clearTimeout(timer),
    (err: unknown) => {
      clearTimeout(timer);
      throw err;
    },
  );
}
