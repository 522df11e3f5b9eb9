/**
 * Plain-text tables for terminal output: column widths from the content,
 * numbers right-aligned, no colours (output is often piped or logged).
 */

export interface Column {
  header: string;
  /** default 'left'; use 'right' for numbers */
  align?: 'left' | 'right';
}

/** Renders a header line, a rule and one line per row; trailing spaces trimmed. */
export function renderTable(columns: readonly Column[], rows: readonly (readonly string[])[], indent = '  '): string {
  const widths = columns.map((c, i) => Math.max(width(c.header), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: readonly string[]): string =>
    indent +
    columns
      .map((c, i) => {
        const cell = cells[i] ?? '';
        const pad = ' '.repeat(widths[i]! - width(cell));
        return c.align === 'right' ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  const rule = indent + widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(columns.map((c) => c.header)), rule, ...rows.map(line)].join('\n') + '\n';
}

/** Display width: code points (enough for the ASCII and µ this tool prints). */
function width(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** An integer with thousands separators; '-' for null/undefined/non-numbers. */
export function fmtInt(v: unknown): string {
  return typeof v === 'number' && Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '-';
}

/** A number with fixed decimals and thousands separators; '-' when absent. */
export function fmtNum(v: unknown, decimals: number): string {
  return typeof v === 'number' && Number.isFinite(v)
    ? v.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals })
    : '-';
}

/** Milliseconds as '850 ms', '3.2 s', '4m 05s'; '-' when absent. */
export function fmtAgeMs(v: unknown): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '-';
  if (v < 1000) return `${Math.max(0, Math.round(v))} ms`;
  if (v < 60_000) return `${(v / 1000).toFixed(1)} s`;
  return fmtDuration(v / 1000);
}

/** Seconds as '42s', '5m 07s', '2h 03m 09s', '3d 04h 10m'. */
export function fmtDuration(seconds: unknown): string {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return '-';
  const s = Math.max(0, Math.round(seconds));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const p2 = (n: number): string => String(n).padStart(2, '0');
  if (d > 0) return `${d}d ${p2(h)}h ${p2(m)}m`;
  if (h > 0) return `${h}h ${p2(m)}m ${p2(sec)}s`;
  if (m > 0) return `${m}m ${p2(sec)}s`;
  return `${sec}s`;
}
