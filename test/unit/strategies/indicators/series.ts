/** Test helpers: feed a series, make a deterministic random walk. */
interface Updatable<V> {
  update(x: number): V | undefined;
}

/** Every update's return value, in order. */
export function feed<V>(indicator: Updatable<V>, xs: readonly number[]): (V | undefined)[] {
  return xs.map((x) => indicator.update(x));
}

/** A random walk around 100 with steps in [−0.5, 0.5), rounded to cents, from a fixed seed (an LCG: the same on every run). */
export function randomWalk(n: number, seed: number): number[] {
  let s = seed;
  const rnd = (): number => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const out: number[] = [];
  let p = 100;
  for (let i = 0; i < n; i++) {
    p = Math.max(1, p + rnd() - 0.5);
    out.push(Math.round(p * 100) / 100);
  }
  return out;
}

/** Bars around a random walk: high and low within half a unit of the close. */
export function randomBars(n: number, seed: number): { high: number; low: number; close: number }[] {
  const closes = randomWalk(n, seed);
  const spread = randomWalk(n, seed + 1);
  return closes.map((c, i) => {
    const w = Math.abs(spread[i]! - 100) / 10 + 0.05;
    return { high: c + w, low: c - w / 2, close: c };
  });
}
