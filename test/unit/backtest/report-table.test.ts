import { describe, it, expect } from 'vitest';
import { buildBacktestReport } from '../../../src/backtest/backtest-accounts.js';
import { renderReportTable } from '../../../src/backtest/report-table.js';
import { B, fill, tick } from './helpers.js';

const T = (h: number, m = 0): number => Date.UTC(2024, 0, 2, h, m);

describe('renderReportTable', () => {
  // flip: the long→short flip of backtest-accounts.test.ts (net 86.5, 2 trips closed, 1 open);
  // trend: BUY 1,000 B @50.05 fee 20 at 09:15, B ends at 50.5: unrealised 1000·0.45 = 450, net 430
  const report = buildBacktestReport({
    initialCash: 100_000,
    strategies: ['trend', 'idle', 'flip'],
    ticks: [tick(T(9, 15), 100), tick(T(9, 15), 50, B), tick(T(10), 110), tick(T(11), 112), tick(T(12), 100), tick(T(15, 30), 101), tick(T(15, 30), 50.5, B)],
    fills: [
      fill('flip', T(9, 15), 'BUY', 10, 100, { fee: 2 }),
      fill('flip', T(10), 'SELL', 15, 110, { fee: 3 }),
      fill('flip', T(11), 'BUY', 5, 112, { fee: 0.5 }),
      fill('flip', T(12), 'BUY', 2, 100),
      fill('trend', T(9, 15), 'BUY', 1000, 50.05, { fee: 20, token: B }),
    ],
  });

  it('renders a row per strategy, a total row and the open positions', () => {
    expect(renderReportTable(report)).toBe(
      [
        'Backtest: 3 strategies, 7 ticks, 2024-01-02T09:15:00Z to 2024-01-02T15:30:00Z (6h 15m 00s), initial cash 100,000.00 per strategy',
        '',
        '  strategy  fills  realised  unrealised   fees  net P&L  max DD  max DD %  win rate  round trips  exposure',
        '  --------  -----  --------  ----------  -----  -------  ------  --------  --------  -----------  --------',
        '  trend         1      0.00      450.00  20.00   430.00   70.00     0.07%         -  0 (+1 open)    100.0%',
        '  idle          0      0.00        0.00   0.00     0.00    0.00     0.00%         -            0      0.0%',
        '  flip          4     90.00        2.00   5.50    86.50   10.50     0.01%     50.0%  2 (+1 open)     84.0%',
        '  --------  -----  --------  ----------  -----  -------  ------  --------  --------  -----------  --------',
        '  total         5     90.00      452.00  25.50   516.50   72.00     0.02%     50.0%  2 (+2 open)    100.0%',
        '',
        'Open positions at the end:',
        '  strategy  instrument  quantity  avg price  last price  unrealised',
        '  --------  ----------  --------  ---------  ----------  ----------',
        '  trend         738561     1,000      50.05       50.50      450.00',
        '  flip          256265         2     100.00      101.00        2.00',
        '',
      ].join('\n'),
    );
  });

  it('says when nothing is open, and prints - for what is undefined', () => {
    const r = buildBacktestReport({ initialCash: 0, strategies: ['s'], ticks: [tick(1000, 100)], fills: [] });
    const text = renderReportTable(r);
    expect(text).toContain('No open positions at the end.\n');
    // one tick: no event time, so no exposure
    expect(text).toMatch(/^ {2}s +0 +0\.00 +0\.00 +0\.00 +0\.00 +0\.00 +0\.00% +- +0 +-$/m);
  });
});
