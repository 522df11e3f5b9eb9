import { maxDrawdown } from './drawdown.js';
import type { EquityPoint } from './report.js';

export interface EquityChartOptions {
  /** the title's net P&L; default: the curve's last equity minus its first */
  netPnl?: number;
  /** pixels; default 800 × 360 */
  width?: number;
  height?: number;
}

const MARGIN = { left: 88, right: 24, top: 58, bottom: 52 } as const;
/** Above this many points per pixel column the line is thinned (see thin()). */
const POINTS_PER_COLUMN = 4;

/**
 * An equity curve as a self-contained SVG document (no script, no external
 * reference): the line, the maximum drawdown's span shaded, the starting
 * equity dashed, labelled axes (UTC time, equity), and a title with the
 * strategy id and its net P&L. Deterministic: the same arguments give the
 * same bytes (coordinates to 2 decimals, numbers formatted here rather than
 * by the locale, no clock). A single point is drawn as a dot, a flat curve
 * in the middle of the plot, an empty curve as a note.
 */
export function equityChartSvg(strategyId: string, curve: readonly EquityPoint[], options: EquityChartOptions = {}): string {
  const width = options.width ?? 800;
  const height = options.height ?? 360;
  const plot = { x: MARGIN.left, y: MARGIN.top, w: width - MARGIN.left - MARGIN.right, h: height - MARGIN.top - MARGIN.bottom };
  const first = curve[0];
  const last = curve[curve.length - 1];
  const netPnl = options.netPnl ?? (first !== undefined && last !== undefined ? last.equity - first.equity : 0);

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<title>${xml(`Equity of ${strategyId}`)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${plot.x}" y="22" font-size="15" font-weight="bold">${xml(strategyId)} · net P&amp;L ${signed(netPnl)}</text>`,
  ];
  if (first === undefined || last === undefined) {
    out.push(
      `<rect x="${plot.x}" y="${plot.y}" width="${plot.w}" height="${plot.h}" fill="none" stroke="#999999"/>`,
      `<text x="${n(plot.x + plot.w / 2)}" y="${n(plot.y + plot.h / 2)}" text-anchor="middle" fill="#666666">no equity points (the backtest saw no ticks and no fills)</text>`,
      '</svg>',
    );
    return out.join('\n') + '\n';
  }

  // Domains: a zero-length time span is widened by a minute each side, a flat curve by 1% (at least 1).
  let t0 = first.timestamp;
  let t1 = last.timestamp;
  if (t1 <= t0) {
    t0 -= 60_000;
    t1 += 60_000;
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of curve) {
    if (p.equity < lo) lo = p.equity;
    if (p.equity > hi) hi = p.equity;
  }
  const pad = hi > lo ? (hi - lo) * 0.05 : Math.max(1, Math.abs(hi) * 0.01);
  const e0 = lo - pad;
  const e1 = hi + pad;
  const sx = (t: number): number => plot.x + ((t - t0) / (t1 - t0)) * plot.w;
  const sy = (e: number): number => plot.y + ((e1 - e) / (e1 - e0)) * plot.h;

  const dd = maxDrawdown(curve);
  const ddText =
    dd.peak !== null ? `max drawdown ${fixed(dd.amount, 2)}${dd.fraction !== null ? ` (${fixed(dd.fraction * 100, 2)}%)` : ''}` : 'no drawdown';
  out.push(`<text x="${plot.x}" y="40" fill="#444444">${xml(`${isoLabel(first.timestamp)} to ${isoLabel(last.timestamp)} UTC · ${ddText}`)}</text>`);

  // The drawdown's span, under everything else.
  if (dd.peak !== null && dd.trough !== null) {
    const x = sx(dd.peak.timestamp);
    const w = Math.max(1, sx(dd.trough.timestamp) - x);
    out.push(
      `<rect class="max-drawdown" x="${n(x)}" y="${plot.y}" width="${n(w)}" height="${plot.h}" fill="#d62728" fill-opacity="0.12"><title>${xml(ddText)}</title></rect>`,
    );
  }

  // Equity axis: grid lines and labels at round values.
  const eStep = niceStep((e1 - e0) / 5);
  const eDecimals = decimalsOf(eStep);
  for (let k = Math.ceil(e0 / eStep); k * eStep <= e1; k++) {
    const y = n(sy(k * eStep));
    out.push(
      `<line x1="${plot.x}" y1="${y}" x2="${plot.x + plot.w}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${plot.x - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${fixed(k * eStep, eDecimals)}</text>`,
    );
  }
  // Time axis: grid lines and labels at round UTC times.
  const tStep = TIME_STEPS.find((s) => (t1 - t0) / s <= 7) ?? Math.ceil((t1 - t0) / 7 / DAY) * DAY;
  const sameDay = Math.floor(t0 / DAY) === Math.floor(t1 / DAY);
  for (let k = Math.ceil(t0 / tStep); k * tStep <= t1; k++) {
    const x = n(sx(k * tStep));
    out.push(
      `<line x1="${x}" y1="${plot.y}" x2="${x}" y2="${plot.y + plot.h}" stroke="#e5e5e5"/>`,
      `<text x="${x}" y="${plot.y + plot.h + 16}" text-anchor="middle">${timeLabel(k * tStep, tStep, sameDay)}</text>`,
    );
  }
  out.push(
    `<text x="${n(plot.x + plot.w / 2)}" y="${height - 10}" text-anchor="middle" fill="#444444">${xml(sameDay ? `time (UTC, ${isoLabel(t0).slice(0, 10)})` : 'time (UTC)')}</text>`,
    `<text x="14" y="${n(plot.y + plot.h / 2)}" text-anchor="middle" fill="#444444" transform="rotate(-90 14 ${n(plot.y + plot.h / 2)})">equity</text>`,
    `<rect x="${plot.x}" y="${plot.y}" width="${plot.w}" height="${plot.h}" fill="none" stroke="#999999"/>`,
  );

  // The starting equity, then the curve.
  const y0 = n(sy(first.equity));
  out.push(`<line class="start-equity" x1="${plot.x}" y1="${y0}" x2="${plot.x + plot.w}" y2="${y0}" stroke="#888888" stroke-dasharray="4 3"/>`);
  const shown = thin(curve, sx, plot.w);
  out.push(
    `<polyline class="equity" fill="none" stroke="#1f77b4" stroke-width="1.5" stroke-linejoin="round" points="${shown.map((p) => `${n(sx(p.timestamp))},${n(sy(p.equity))}`).join(' ')}"/>`,
  );
  if (curve.length === 1) out.push(`<circle cx="${n(sx(first.timestamp))}" cy="${y0}" r="3" fill="#1f77b4"/>`);
  // The drawdown's ends as dots: its span can be a hairline when both are at one instant.
  if (dd.peak !== null && dd.trough !== null) {
    for (const p of [dd.peak, dd.trough]) out.push(`<circle class="max-drawdown-end" cx="${n(sx(p.timestamp))}" cy="${n(sy(p.equity))}" r="3" fill="#d62728"/>`);
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/**
 * A long curve thinned to what can be seen: past POINTS_PER_COLUMN points
 * per pixel column, each column keeps its first, lowest, highest and last
 * point (in curve order), so the drawn shape, its extremes and its ends are
 * unchanged. Shorter curves are drawn point for point.
 */
export function thin(curve: readonly EquityPoint[], sx: (t: number) => number, columns: number): readonly EquityPoint[] {
  if (curve.length <= POINTS_PER_COLUMN * columns) return curve;
  const keep: EquityPoint[] = [];
  let i = 0;
  while (i < curve.length) {
    const col = Math.floor(sx(curve[i]!.timestamp));
    let j = i;
    let min = i;
    let max = i;
    while (j + 1 < curve.length && Math.floor(sx(curve[j + 1]!.timestamp)) === col) {
      j++;
      if (curve[j]!.equity < curve[min]!.equity) min = j;
      if (curve[j]!.equity > curve[max]!.equity) max = j;
    }
    for (const k of [...new Set([i, min, max, j])].sort((a, b) => a - b)) keep.push(curve[k]!);
    i = j + 1;
  }
  return keep;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Round steps for the time axis, smallest first: the first giving at most 7 intervals is used. */
const TIME_STEPS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500,
  SECOND, 2 * SECOND, 5 * SECOND, 10 * SECOND, 15 * SECOND, 30 * SECOND,
  MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE,
  HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR,
  DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY, 91 * DAY, 182 * DAY, 364 * DAY,
];

/** A tick label: dates for day steps; times otherwise (with the date when the axis spans days; ms below a second). */
function timeLabel(ms: number, step: number, sameDay: boolean): string {
  const iso = new Date(ms).toISOString(); // 2024-01-02T09:15:30.250Z
  if (step >= DAY) return iso.slice(0, 10);
  const time = step < SECOND ? iso.slice(11, 23) : step < MINUTE ? iso.slice(11, 19) : iso.slice(11, 16);
  return sameDay ? time : `${iso.slice(5, 10)} ${time}`;
}

function isoLabel(ms: number): string {
  const iso = new Date(ms).toISOString();
  return ms % 1000 === 0 ? iso.slice(0, 19) : iso.slice(0, 23);
}

/** 1, 2, 2.5 or 5 times a power of ten, at least `raw`. */
function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 5 ? 5 : 10) * p;
}

/** The decimals a step's multiples need (0 for whole steps, at most 8). */
function decimalsOf(step: number): number {
  for (let d = 0; d < 8; d++) {
    const scaled = step * 10 ** d;
    if (Math.abs(scaled - Math.round(scaled)) < 1e-9 * Math.max(1, scaled)) return d;
  }
  return 8;
}

/** Fixed decimals with thousands separators, written here so no locale data can change the bytes. */
function fixed(v: number, decimals: number): string {
  const s = Math.abs(v).toFixed(decimals);
  const dot = s.indexOf('.');
  const int = dot < 0 ? s : s.slice(0, dot);
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const negative = v < 0 && Number(s) !== 0;
  return `${negative ? '-' : ''}${grouped}${dot < 0 ? '' : s.slice(dot)}`;
}

function signed(v: number): string {
  const s = fixed(v, 2);
  return v > 0 && s !== '0.00' ? `+${s}` : s;
}

/** A coordinate to 2 decimals, without a trailing '.00'. */
function n(v: number): string {
  const s = v.toFixed(2);
  return s.endsWith('.00') ? s.slice(0, -3) : s;
}

/** Text for XML content and attribute values. */
export function xml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '&' ? '&amp;' : c === '"' ? '&quot;' : '&apos;'));
}
