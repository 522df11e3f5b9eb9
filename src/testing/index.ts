/** The strategy author's test kit: `import { runStrategy } from 'strategy-runner/testing'`. */
export { runStrategy, type RunStrategyOptions, type StrategyRun, type StrategyRunError } from './run-strategy.js';
export type { FillModel } from '../backtest/fill-model.js';
