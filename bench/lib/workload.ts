import type { StrategyConfigInput } from '../../src/config/strategy-config.js';
import { mulberry32 } from '../../src/sim/prng.js';
import { shardOf } from '../../src/routing/shard-of.js';

/**
 * The benchmark workload: `instruments` tokens; each strategy subscribes to
 * `perStrategy` of them (chosen by a seeded shuffle, so every run is the
 * same); ticks are JSON lines (the bytes a consumer hands over), each for a
 * uniformly chosen instrument, on a random walk.
 */
export function strategies(count: number, kind: 'trivial' | 'builtin', instruments = 1000, perStrategy = 50, seed = 1): StrategyConfigInput[] {
  const rand = mulberry32(seed);
  const tokens = Array.from({ length: instruments }, (_, i) => 100_000 + i);
  const out: StrategyConfigInput[] = [];
  for (let s = 0; s < count; s++) {
    const pick = new Set<number>();
    while (pick.size < Math.min(perStrategy, instruments)) pick.add(tokens[Math.floor(rand() * instruments)]!);
    const id = `s${String(s).padStart(4, '0')}`;
    if (kind === 'trivial') out.push({ id, strategy_type: 'BenchTrivial', instruments: [...pick] });
    else if (s % 2 === 0) out.push({ id, strategy_type: 'SimpleMomentumStrategy', instruments: [...pick], parameters: { lookback_period: 20, momentum_threshold: 0.002 } });
    else out.push({ id, strategy_type: 'MeanReversionStrategy', instruments: [...pick], parameters: { lookback_period: 50, deviation_threshold: 1.5 } });
  }
  return out;
}

export function tickLines(count: number, instruments = 1000, seed = 2): string[] {
  const rand = mulberry32(seed);
  const prices = new Float64Array(instruments).fill(1000);
  const out: string[] = [];
  let ts = 1_700_000_000_000;
  for (let i = 0; i < count; i++) {
    const k = Math.floor(rand() * instruments);
    prices[k] = Math.max(1, prices[k]! * (1 + (rand() - 0.5) * 0.004));
    ts += 1;
    out.push(`{"instrument_token":${100_000 + k},"last_price":${prices[k]!.toFixed(2)},"timestamp":${ts},"volume":${i}}`);
  }
  return out;
}

/**
 * `count` strategy ids (`{prefix}00000`, …) chosen so that every one of
 * `shards` shards holds the same number of them (count / shards, rounded up):
 * a runner's share of the work is then its share of the shards, not the luck
 * of the hash.
 */
export function balancedIds(count: number, shards: number, prefix: string): string[] {
  const per = Math.ceil(count / shards);
  const filled = new Array<number>(shards).fill(0);
  const ids: string[] = [];
  for (let i = 0; ids.length < count; i++) {
    const id = `${prefix}${String(i).padStart(5, '0')}`;
    const sh = shardOf(id, shards);
    if (filled[sh]! >= per) continue;
    filled[sh]!++;
    ids.push(id);
  }
  return ids;
}
