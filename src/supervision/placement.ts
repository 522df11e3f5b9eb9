/**
 * How many threads to run for `strategyCount` strategies: one per strategy
 * unless the configured pool size is smaller.
 */
export function threadCount(strategyCount: number, poolSize: number | undefined): number {
  if (strategyCount === 0) return 0;
  return poolSize === undefined ? strategyCount : Math.max(1, Math.min(poolSize, strategyCount));
}

/**
 * Assign strategies (in the given order) to threads round-robin, so each
 * thread gets ⌈n/threads⌉ or ⌊n/threads⌋ of them. Deterministic: the same
 * configuration lands the same way every time.
 */
export function assignThreads(strategyCount: number, threads: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < strategyCount; i++) out.push(i % threads);
  return out;
}
