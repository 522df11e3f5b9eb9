import { describe, expect, it } from 'vitest';
import { RunnerError } from '../../../../src/errors.js';
import { StrategyRegistry } from '../../../../src/strategies/registry.js';
import { PostgresConfigSource } from '../../../../src/transport/postgres/postgres-config-source.js';
import { strategyDatabase } from '../../../helpers/service.js';

describe('PostgresConfigSource', () => {
  it("reads rows as strategy configurations: the table's own columns (created_at, updated_at) are not taken for mistakes", async () => {
    const db = await strategyDatabase([
      { id: 'a', strategy_type: 'SimpleMomentumStrategy', instruments: [256265, 9_007_199_254_740_991], parameters: { lookback_period: 5 } },
      { id: 'b', strategy_type: 'MeanReversionStrategy', instruments: [260105], is_active: false, brokers: ['paper', 'zerodha'] },
    ]);
    const columns = await db.sql<{ column_name: string }[]>`
      SELECT column_name FROM information_schema.columns WHERE table_schema = ${db.schema} AND table_name = 'strategy_configurations'`;
    expect(columns.map((c) => c.column_name)).toEqual(expect.arrayContaining(['created_at', 'updated_at']));

    const parsed = await new PostgresConfigSource(db.sql).load();
    expect(parsed.errors).toEqual([]);
    expect(parsed.configs).toEqual([
      { id: 'a', strategy_type: 'SimpleMomentumStrategy', instruments: [256265, 9_007_199_254_740_991], parameters: { lookback_period: 5 }, is_active: true, brokers: ['paper'] },
      { id: 'b', strategy_type: 'MeanReversionStrategy', instruments: [260105], parameters: {}, is_active: false, brokers: ['paper', 'zerodha'] },
    ]);
  });

  it("a misspelled key in a row's parameters is a mistake: the strategy is rejected naming the key and the key it resembles", async () => {
    const db = await strategyDatabase([{ id: 'typo', strategy_type: 'SimpleMomentumStrategy', instruments: [256265], parameters: { lookbak_period: 3 } }]);
    const parsed = await new PostgresConfigSource(db.sql).load();
    expect(parsed.errors).toEqual([]);
    let err: unknown;
    try {
      new StrategyRegistry().resolve(parsed.configs[0]!);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RunnerError);
    expect((err as RunnerError).code).toBe('STRATEGY_PARAMS_INVALID');
    expect((err as RunnerError).message).toBe("strategy 'typo' (SimpleMomentumStrategy): invalid parameters: unknown key 'lookbak_period' (did you mean 'lookback_period'?)");
  });
});

