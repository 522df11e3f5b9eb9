/** Where one strategy lives: its thread (host index) and its slot number there. */
export interface Placement {
  readonly strategyId: string;
  readonly instruments: readonly number[];
  readonly host: number;
  readonly slot: number;
}

/** The strategies of one thread that want an instrument, pre-encoded for the batch's flat `routes` array. */
export interface RouteTarget {
  readonly host: number;
  /** [n, slot1, …, slotn]: appended as-is to the thread's routes */
  readonly encoded: readonly number[];
  readonly strategyIds: readonly string[];
}

/**
 * instrument_token → the threads and slots that want it. Built once per
 * configuration and never mutated: a change builds a new table and the
 * supervisor swaps the reference, so no tick ever sees a half-built map.
 * The per-tick cost is one Map.get; nothing scans the strategies.
 */
export class RouteTable {
  readonly #routes: ReadonlyMap<number, readonly RouteTarget[]>;
  readonly strategyCount: number;

  private constructor(routes: Map<number, readonly RouteTarget[]>, strategyCount: number) {
    this.#routes = routes;
    this.strategyCount = strategyCount;
  }

  static empty(): RouteTable {
    return new RouteTable(new Map(), 0);
  }

  static build(placements: readonly Placement[]): RouteTable {
    const byToken = new Map<number, Map<number, { slots: number[]; ids: string[] }>>();
    for (const p of placements) {
      for (const token of new Set(p.instruments)) {
        let hosts = byToken.get(token);
        if (hosts === undefined) byToken.set(token, (hosts = new Map()));
        let h = hosts.get(p.host);
        if (h === undefined) hosts.set(p.host, (h = { slots: [], ids: [] }));
        h.slots.push(p.slot);
        h.ids.push(p.strategyId);
      }
    }
    const routes = new Map<number, readonly RouteTarget[]>();
    for (const [token, hosts] of byToken) {
      const targets = [...hosts.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([host, h]) => Object.freeze({ host, encoded: Object.freeze([h.slots.length, ...h.slots]), strategyIds: Object.freeze(h.ids) }));
      routes.set(token, Object.freeze(targets));
    }
    return new RouteTable(routes, placements.length);
  }

  lookup(token: number): readonly RouteTarget[] | undefined {
    return this.#routes.get(token);
  }

  get instrumentCount(): number {
    return this.#routes.size;
  }

  /** Strategy ids subscribed to an instrument (for status and tests; not the hot path). */
  strategiesFor(token: number): string[] {
    return (this.#routes.get(token) ?? []).flatMap((t) => t.strategyIds).sort();
  }
}
