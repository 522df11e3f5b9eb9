import { describe, expect, it, vi } from 'vitest';
import { simulateCommand, SIMULATE_USAGE } from '../../../../../src/cli/commands/simulate/index.js';
import { UsageError } from '../../../../../src/cli/usage-error.js';

describe('simulate argument checks', () => {
  it('rejects bad flags with a UsageError before touching the broker', async () => {
    for (const argv of [
      ['--rate', '0'],
      ['--rate', 'fast'],
      ['--count', '1.5'],
      ['--duration=-1'],
      ['--volatility', '2'],
      ['--volatility', ''],
      ['--start-price', '0'],
      ['--seed=-1'],
      ['--seed', '99999999999'],
      ['--partitions', '3'],
      ['--instruments', 'x'],
      ['--log-level', 'loud'],
    ]) {
      await expect(simulateCommand(argv), argv.join(' ')).rejects.toBeInstanceOf(UsageError);
    }
    await expect(simulateCommand(['--bogus'])).rejects.toMatchObject({ code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' });
  });

  it('prints its usage with --help', async () => {
    const chunks: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => (chunks.push(String(c)), true));
    try {
      expect(await simulateCommand(['--help'])).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(chunks.join('')).toBe(SIMULATE_USAGE);
    expect(SIMULATE_USAGE).toContain('256265,260105,738561,341249,408065,2953217');
  });
});
