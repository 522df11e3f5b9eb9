import type { Sql } from 'postgres';
import type { SnapshotPosition, StrategySnapshot } from '../../snapshots/snapshot.js';

interface Row {
  strategy_id: string;
  strategy_type: string;
  params_hash: string;
  schema_version: number;
  position: SnapshotPosition;
  state: string;
  runner: string;
  taken_at: Date;
}

/**
 * The latest snapshot of each strategy, in `strategy_snapshots`
 * (sql/migrations/003_strategy_snapshots.sql). A cut is written in one
 * transaction: a restart finds every strategy of a cut or none of it.
 */
export class SnapshotStore {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  /** The stored snapshots of these strategies (all when `ids` is undefined). */
  async load(ids?: readonly string[]): Promise<Map<string, StrategySnapshot>> {
    const rows =
      ids === undefined
        ? await this.#sql<Row[]>`SELECT * FROM strategy_snapshots`
        : await this.#sql<Row[]>`SELECT * FROM strategy_snapshots WHERE strategy_id = ANY(${this.#sql.array([...ids])})`;
    const out = new Map<string, StrategySnapshot>();
    for (const r of rows) {
      out.set(r.strategy_id, {
        strategyId: r.strategy_id,
        strategyType: r.strategy_type,
        paramsHash: r.params_hash,
        schemaVersion: r.schema_version,
        position: r.position,
        state: r.state,
        runner: r.runner,
        takenAt: r.taken_at.toISOString(),
      });
    }
    return out;
  }

  /** Replace the snapshots of these strategies, all in one transaction. */
  async save(snapshots: readonly StrategySnapshot[]): Promise<void> {
    if (snapshots.length === 0) return;
    await this.#sql.begin(async (tx) => {
      for (const s of snapshots) {
        await tx`
          INSERT INTO strategy_snapshots (strategy_id, strategy_type, params_hash, schema_version, position, state, runner, taken_at)
          VALUES (${s.strategyId}, ${s.strategyType}, ${s.paramsHash}, ${s.schemaVersion}, ${tx.json(s.position as never)}, ${s.state}, ${s.runner}, ${s.takenAt})
          ON CONFLICT (strategy_id) DO UPDATE SET
            strategy_type = EXCLUDED.strategy_type, params_hash = EXCLUDED.params_hash, schema_version = EXCLUDED.schema_version,
            position = EXCLUDED.position, state = EXCLUDED.state, runner = EXCLUDED.runner, taken_at = EXCLUDED.taken_at`;
      }
    });
  }
}
