import { describe, expect, it } from 'vitest';
import { dueTicks, parseInstruments } from '../../../../../src/cli/commands/simulate/model.js';
import { UsageError } from '../../../../../src/cli/usage-error.js';

describe('dueTicks', () => {
  it('follows the absolute schedule, capped by the limit', () => {
    expect(dueTicks(0, 1000)).toBe(0);
    expect(dueTicks(10, 1000)).toBe(10);
    expect(dueTicks(1234.5, 1000)).toBe(1234);
    expect(dueTicks(10_000, 1000, 500)).toBe(500);
    expect(dueTicks(-5, 1000)).toBe(0);
    expect(dueTicks(2500, 0.5)).toBe(1);
  });
});

describe('simulate argument checks', () => {
  it('parses instrument lists', () => {
    expect(parseInstruments('256265, 260105,256265')).toEqual([256265, 260105]);
    expect(() => parseInstruments('')).toThrow(UsageError);
    expect(() => parseInstruments('12,abc')).toThrow(/abc/);
    expect(() => parseInstruments('-3')).toThrow(UsageError);
  });
});
