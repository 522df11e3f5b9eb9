import type { Tick } from '../domain/tick.js';
import type { StrategyFilter } from '../ports.js';
import { RouteTable, type Placement } from './route-table.js';

/** The ticks of one round for one thread, with their routes. */
export interface HostBatch {
  ticks: Tick[];
  /** for tick i: a count n, then the n slots that want it */
  routes: number[];
  /** local tick index → round index */
  index: number[];
}

/** A strategy as the router sees it (the supervisor's StrategyEntry). */
export interface Routable {
  readonly config: { readonly id: string; readonly instruments: readonly number[] };
  readonly host: number;
  readonly slot: number;
  readonly state: string;
  /** down by its thread's own decision (event time): still routed, its thread skips its ticks */
  readonly threadDown: boolean;
  /** ticks it was routed none of because it was restarting or quarantined */
  missedTicks: number;
}

/** Where routed ticks go besides their batches: the re-warm history. */
export interface TickSink {
  record(tick: Tick): void;
}

/**
 * The router: instrument → the threads and slots that want it (a RouteTable,
 * swapped whole on every change), and the routing of a round into one batch
 * per thread. Strategies out of the routes while restarting or quarantined
 * are remembered per instrument, so that their ticks count as missed, not
 * as unwanted, and stay in the history their re-warm reads.
 */
export class Router<E extends Routable = Routable> {
  #table: RouteTable = RouteTable.empty();
  #placements: Placement[] = [];
  /** the route tables of strategy subsets (StrategyFilter), built on first use after each rebuild */
  readonly #filtered = new Map<string, RouteTable>();
  /** instrument → strategies out of the routes while restarting or quarantined; undefined when there are none (the common case) */
  #absent: Map<number, E[]> | undefined;
  readonly #history: TickSink;
  readonly #recordUnrouted: boolean;

  /** `recordUnrouted`: keep in the history the ticks no strategy wants too (a sharded runner). */
  constructor(history: TickSink, o: { recordUnrouted?: boolean } = {}) {
    this.#history = history;
    this.#recordUnrouted = o.recordUnrouted === true;
  }

  get table(): RouteTable {
    return this.#table;
  }

  /** Build a new route table from the running strategies (and the ones their threads took down) and swap it in whole. */
  rebuild(entries: Iterable<E>): void {
    const all = [...entries];
    const placements: Placement[] = all
      .filter((e) => e.state === 'running' || e.threadDown)
      .sort((a, b) => a.slot - b.slot)
      .map((e) => ({ strategyId: e.config.id, instruments: e.config.instruments, host: e.host, slot: e.slot }));
    this.#table = RouteTable.build(placements);
    this.#placements = placements;
    this.#filtered.clear();
    let absent: Map<number, E[]> | undefined;
    for (const e of all) {
      if ((e.state !== 'restarting' && e.state !== 'quarantined') || e.threadDown) continue;
      absent ??= new Map();
      for (const t of new Set(e.config.instruments)) (absent.get(t) ?? absent.set(t, []).get(t)!).push(e);
    }
    this.#absent = absent;
  }

  /** The route table of a subset of the strategies (cached per filter key until the next rebuild). */
  tableFor(only: StrategyFilter): RouteTable {
    let t = this.#filtered.get(only.key);
    if (t === undefined) {
      t = RouteTable.build(this.#placements.filter((p) => only.accepts(p.strategyId)));
      if (this.#filtered.size >= 64) this.#filtered.clear();
      this.#filtered.set(only.key, t);
    }
    return t;
  }

  /**
   * Hot path: route each tick with one Map lookup into one batch per thread
   * (`threads` long; undefined where no tick goes). Every routed tick, and
   * every tick an absent strategy wants, is recorded in the history (with
   * `record: false`, none: ticks re-read behind the live stream, older than
   * what the history holds).
   */
  route(ticks: readonly Tick[], threads: number, only?: StrategyFilter, record = true): { batches: (HostBatch | undefined)[]; unrouted: number } {
    const table = only === undefined ? this.#table : this.tableFor(only);
    const history = this.#history;
    const recordUnrouted = record && this.#recordUnrouted;
    const absent = this.#absent;
    const batches: (HostBatch | undefined)[] = new Array(threads);
    let unrouted = 0;
    for (let r = 0; r < ticks.length; r++) {
      const tick = ticks[r]!;
      const targets = table.lookup(tick.instrument_token);
      // Only while a strategy is restarting or quarantined: one more lookup per tick.
      const away = absent === undefined ? undefined : absent.get(tick.instrument_token);
      if (away !== undefined) for (let a = 0; a < away.length; a++) away[a]!.missedTicks++;
      if (targets === undefined) {
        if (away === undefined) {
          unrouted++;
          if (recordUnrouted) history.record(tick);
        } else if (record) history.record(tick); // its re-warm wants them
        continue;
      }
      if (record) history.record(tick);
      for (let t = 0; t < targets.length; t++) {
        const target = targets[t]!;
        let b = batches[target.host];
        if (b === undefined) batches[target.host] = b = { ticks: [], routes: [], index: [] };
        b.ticks.push(tick);
        const enc = target.encoded;
        for (let k = 0; k < enc.length; k++) b.routes.push(enc[k]!);
        b.index.push(r);
      }
    }
    return { batches, unrouted };
  }
}
