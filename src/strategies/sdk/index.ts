/** The strategy SDK: everything a strategy author imports. */
export { z } from 'zod';
export { defineStrategy } from './define-strategy.js';
export { BaseStrategy, definitionFromClass, type StrategyClass } from './base-strategy.js';
export type {
  StrategyContext,
  TickContext,
  StrategyInstance,
  StrategyDefinition,
  TickOutput,
} from './types.js';
export type { Tick } from '../../domain/tick.js';
export type { Fill } from '../../domain/fill.js';
export type { SignalIntent } from '../../domain/signal.js';
export type { Side } from '../../domain/side.js';
export type { PortfolioView, Position } from '../../domain/portfolio.js';
export { RollingWindow } from '../rolling-window.js';
export type { Bar, BarSpec } from '../engine/bars.js';
export type { Timer, TimerSpec } from '../engine/timers.js';
export type { OrderType, TimeInForce } from '../../domain/signal.js';
export * from '../indicators/index.js';
