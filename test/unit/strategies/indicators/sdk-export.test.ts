import { describe, expect, it } from 'vitest';
import * as sdk from '../../../../src/strategies/sdk/index.js';

describe('the SDK exports the indicators', () => {
  it.each(['SMA', 'EMA', 'RSI', 'MACD', 'BollingerBands', 'ATR', 'VWAP', 'PerInstrument', 'perInstrument'])('%s', (name) => {
    expect(typeof (sdk as Record<string, unknown>)[name]).toBe('function');
  });

  it('a strategy can keep an RSI per instrument from the SDK alone', () => {
    const rsi = sdk.perInstrument(() => new sdk.RSI(2));
    for (const p of [1, 2, 3, 2]) rsi.get(1).update(p);
    expect(rsi.get(1).value).toBe(50);
  });
});
