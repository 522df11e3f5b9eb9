import type { AnyStrategyDefinition } from '../sdk/types.js';
import { MeanReversionStrategy } from './mean-reversion.js';
import { SimpleMomentumStrategy } from './simple-momentum.js';

/** Registered in every registry by default. */
export const BUILTIN_STRATEGIES: readonly AnyStrategyDefinition[] = [SimpleMomentumStrategy, MeanReversionStrategy];

export { MeanReversionStrategy, SimpleMomentumStrategy };
