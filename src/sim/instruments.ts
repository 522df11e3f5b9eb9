/**
 * The NSE instruments synthetic data is made of, with what makes a trader
 * recognise them: a realistic starting price, the annualised volatility
 * (NIFTY 50 ~13%, BANKNIFTY ~17%, large caps 20-30%) and how often each
 * ticks relative to the others (indices more than single stocks).
 */
export interface SimInstrument {
  readonly token: number;
  readonly name: string;
  readonly price: number;
  readonly annualVol: number;
  readonly weight: number;
}

export const NSE_INSTRUMENTS: readonly SimInstrument[] = [
  { token: 256265, name: 'NIFTY 50', price: 23_450, annualVol: 0.13, weight: 3 },
  { token: 260105, name: 'NIFTY BANK', price: 50_120, annualVol: 0.17, weight: 3 },
  { token: 738561, name: 'RELIANCE', price: 1_265, annualVol: 0.24, weight: 1 },
  { token: 341249, name: 'HDFCBANK', price: 1_742, annualVol: 0.22, weight: 1 },
  { token: 408065, name: 'INFY', price: 1_860, annualVol: 0.26, weight: 1 },
  { token: 2953217, name: 'TCS', price: 4_150, annualVol: 0.21, weight: 1 },
];

/** NSE tokens: NIFTY 50, NIFTY BANK, RELIANCE, HDFCBANK, INFY, TCS. */
export const DEFAULT_INSTRUMENTS: readonly number[] = NSE_INSTRUMENTS.map((i) => i.token);

/** Realistic starting prices of the known instruments. */
export const KNOWN_START_PRICES: ReadonlyMap<number, number> = new Map(NSE_INSTRUMENTS.map((i) => [i.token, i.price]));

/** NSE: 252 sessions a year of 6 h 15 min (09:15-15:30). */
export const TRADING_SECONDS_PER_YEAR = 252 * 6.25 * 3600;

/** One tick's standard deviation for an annualised volatility, `dtSeconds` after the instrument's last tick. */
export function tickSigma(annualVol: number, dtSeconds: number): number {
  return annualVol * Math.sqrt(dtSeconds / TRADING_SECONDS_PER_YEAR);
}

/** NSE tick size. */
export const TICK_SIZE = 0.05;

/** Nearest multiple of 0.05 (at least 0.05), as the shortest decimal (23450.35, not 23450.350000000002). */
export function roundToTickSize(price: number): number {
  const steps = Math.max(1, Math.round(price / TICK_SIZE));
  return Number((steps * TICK_SIZE).toFixed(2));
}
