import { fmtDuration, fmtInt, fmtNum, renderTable, type Column } from '../cli/table.js';
import type { BacktestReport, Performance } from './report.js';

const SUMMARY_COLUMNS: readonly Column[] = [
  { header: 'strategy' },
  { header: 'fills', align: 'right' },
  { header: 'realised', align: 'right' },
  { header: 'unrealised', align: 'right' },
  { header: 'fees', align: 'right' },
  { header: 'net P&L', align: 'right' },
  { header: 'max DD', align: 'right' },
  { header: 'max DD %', align: 'right' },
  { header: 'win rate', align: 'right' },
  { header: 'round trips', align: 'right' },
  { header: 'exposure', align: 'right' },
];

const POSITION_COLUMNS: readonly Column[] = [
  { header: 'strategy' },
  { header: 'instrument', align: 'right' },
  { header: 'quantity', align: 'right' },
  { header: 'avg price', align: 'right' },
  { header: 'last price', align: 'right' },
  { header: 'unrealised', align: 'right' },
];

/**
 * The report for a terminal: a heading line, one row per strategy and a
 * total row (money to 2 decimals, fractions as percentages), then the
 * positions still open at the end. The JSON report has the exact figures.
 */
export function renderReportTable(report: BacktestReport): string {
  const { ticks, strategies, total } = report;
  const span =
    ticks.first_timestamp !== null && ticks.last_timestamp !== null
      ? `, ${isoSeconds(ticks.first_timestamp)} to ${isoSeconds(ticks.last_timestamp)} (${fmtDuration((ticks.last_timestamp - ticks.first_timestamp) / 1000)})`
      : '';
  const perStrategy = strategies[0]?.initial_cash ?? 0;
  const heading =
    `Backtest: ${plural(strategies.length, 'strategy', 'strategies')}, ${plural(ticks.count, 'tick', 'ticks')}${span}, ` +
    `initial cash ${fmtNum(perStrategy, 2)} per strategy` +
    (ticks.out_of_order > 0 ? ` (${fmtInt(ticks.out_of_order)} ticks out of time order)` : '');

  const rows = strategies.map((s) => summaryRow(s.strategy_id, s));
  const summary = renderTable(SUMMARY_COLUMNS, [...rows, summaryRow('total', total)]).split('\n');
  // A rule above the total row: a copy of the one under the header (lines: header, rule, rows..., total, '').
  summary.splice(summary.length - 2, 0, summary[1]!);

  const open = strategies.flatMap((s) =>
    s.positions
      .filter((p) => p.quantity !== 0)
      .map((p) => [s.strategy_id, String(p.instrument_token), fmtQty(p.quantity), fmtNum(p.avg_price, 2), fmtNum(p.last_price, 2), fmtNum(p.unrealized_pnl, 2)]),
  );
  const positions = open.length > 0 ? `Open positions at the end:\n${renderTable(POSITION_COLUMNS, open)}` : 'No open positions at the end.\n';
  return `${heading}\n\n${summary.join('\n')}\n${positions}`;
}

function summaryRow(name: string, p: Performance): string[] {
  const dd = p.max_drawdown;
  const rt = p.round_trips;
  return [
    name,
    fmtInt(p.fills),
    fmtNum(p.realized_pnl, 2),
    fmtNum(p.unrealized_pnl, 2),
    fmtNum(p.fees, 2),
    fmtNum(p.net_pnl, 2),
    fmtNum(dd.amount, 2),
    fmtPct(dd.fraction, 2),
    fmtPct(rt.win_rate, 1),
    `${fmtInt(rt.closed)}${rt.open > 0 ? ` (+${fmtInt(rt.open)} open)` : ''}`,
    fmtPct(p.exposure, 1),
  ];
}

/** A fraction as a percentage; '-' for null. */
function fmtPct(v: number | null, decimals: number): string {
  return v === null ? '-' : `${fmtNum(v * 100, decimals)}%`;
}

/** Whole quantities as integers, fractional ones with up to 6 decimals. */
function fmtQty(v: number): string {
  return Number.isInteger(v) ? fmtInt(v) : v.toLocaleString('en-US', { maximumFractionDigits: 6 });
}

function isoSeconds(ms: number): string {
  const iso = new Date(ms).toISOString();
  return ms % 1000 === 0 ? `${iso.slice(0, 19)}Z` : iso;
}

function plural(n: number, one: string, many: string): string {
  return `${fmtInt(n)} ${n === 1 ? one : many}`;
}
