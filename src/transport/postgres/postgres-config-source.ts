import type { Sql } from 'postgres';
import { parseStrategyConfigs, type ParsedConfigs } from '../../config/strategy-config.js';
import type { ConfigSource } from '../../ports.js';

interface Row {
  id: string;
  strategy_type: string;
  instruments: string[];
  parameters: unknown;
  is_active: boolean;
  brokers: string[];
}

/**
 * Strategy configurations from the `strategy_configurations` table. Every row
 * is validated like a file entry: a row that fails is reported with its id
 * and skipped, never a crash.
 */
export class PostgresConfigSource implements ConfigSource {
  readonly name = 'postgres:strategy_configurations';
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async load(): Promise<ParsedConfigs> {
    // instruments are bigint[]: read as text so no precision is lost on the way, then checked as safe integers.
    const rows = await this.#sql<Row[]>`
      SELECT id, strategy_type, instruments::text[] AS instruments, parameters, is_active, brokers
      FROM strategy_configurations
      ORDER BY id`;
    const entries = rows.map((r) => ({
      id: r.id,
      strategy_type: r.strategy_type,
      instruments: r.instruments.map((t) => {
        const n = Number(t);
        return Number.isSafeInteger(n) ? n : t;
      }),
      parameters: r.parameters,
      is_active: r.is_active,
      brokers: r.brokers,
    }));
    return parseStrategyConfigs(entries, this.name);
  }

  async close(): Promise<void> {}
}
