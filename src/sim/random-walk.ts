import { gaussian, mulberry32 } from './prng.js';
import { KNOWN_START_PRICES, roundToTickSize } from './instruments.js';

export interface RandomWalkOptions {
  instruments: readonly number[];
  seed: number;
  /** relative standard deviation of one move (default 0.001) */
  volatility?: number;
  /** starting price of every instrument (default: known price per token, else seeded in [100, 5000)) */
  startPrice?: number;
}

/** A generated tick, without its timestamp (stamped at send time). */
export interface SyntheticTick {
  instrument_token: number;
  /** on the 0.05 grid, > 0 */
  last_price: number;
  /** cumulative volume of the instrument */
  volume: number;
}

/**
 * A seeded random walk over several instruments: each step picks an
 * instrument uniformly and moves its price geometrically
 * (× exp(volatility · N(0,1)), so it stays positive); the exact price is kept
 * internally and the emitted one is rounded to the 0.05 grid, so small prices
 * still move. Deterministic: the same options give the same sequence.
 */
export class RandomWalk {
  readonly #rand: () => number;
  readonly #tokens: readonly number[];
  readonly #vol: number;
  readonly #price = new Map<number, number>();
  readonly #volume = new Map<number, number>();

  constructor(o: RandomWalkOptions) {
    if (o.instruments.length === 0) throw new RangeError('RandomWalk needs at least one instrument');
    const vol = o.volatility ?? 0.001;
    if (!(vol >= 0) || !Number.isFinite(vol)) throw new RangeError(`volatility must be a finite number >= 0, got ${vol}`);
    if (o.startPrice !== undefined && !(o.startPrice > 0 && Number.isFinite(o.startPrice))) {
      throw new RangeError(`startPrice must be a finite number > 0, got ${o.startPrice}`);
    }
    this.#rand = mulberry32(o.seed);
    this.#tokens = [...o.instruments];
    this.#vol = vol;
    for (const t of this.#tokens) {
      const p = o.startPrice ?? KNOWN_START_PRICES.get(t) ?? 100 + Math.floor(this.#rand() * 4900);
      this.#price.set(t, p);
      this.#volume.set(t, 0);
    }
  }

  /** The next tick: a uniformly picked instrument, its price moved once. */
  next(): SyntheticTick {
    const token = this.#tokens[Math.floor(this.#rand() * this.#tokens.length)]!;
    const price = this.#price.get(token)! * Math.exp(this.#vol * gaussian(this.#rand));
    this.#price.set(token, price);
    const volume = this.#volume.get(token)! + 1 + Math.floor(this.#rand() * 500);
    this.#volume.set(token, volume);
    return { instrument_token: token, last_price: roundToTickSize(price), volume };
  }

  take(n: number): SyntheticTick[] {
    const out: SyntheticTick[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next();
    return out;
  }
}

/** The first `count` ticks of a random walk (pure). */
export function randomWalkTicks(o: RandomWalkOptions, count: number): SyntheticTick[] {
  return new RandomWalk(o).take(count);
}
