/**
 * Incremental technical indicators for strategies: one value in, O(1) or
 * O(period) work, the new value out; per instrument with `perInstrument`.
 * Wrappers over trading-signals (docs/dependencies.md says why that library
 * and where it differs from the textbook), VWAP written here.
 */
export type { Indicator, HighLowClose } from './indicator.js';
export { SMA } from './sma.js';
export { EMA } from './ema.js';
export { RSI } from './rsi.js';
export { MACD, type MACDValue, type MACDSettings } from './macd.js';
export { BollingerBands, type BollingerBandsValue } from './bollinger-bands.js';
export { ATR } from './atr.js';
export { VWAP } from './vwap.js';
export { PerInstrument, perInstrument } from './per-instrument.js';
