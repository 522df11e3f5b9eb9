/**
 * Hand-written SVG charts for bench/chart.ts (no dependencies): grouped bar
 * charts and line charts, linear or log scale, with axis labels, a legend and
 * a caption.
 */

export const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
export const GREY = '#8c8c8c';

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** 1,234,567 → "1.23M", 12,345 → "12.3k", 0.5 → "0.5". */
export function compact(v: number): string {
  const a = Math.abs(v);
  const trim = (x: number): string => String(Number(x.toPrecision(3)));
  if (a >= 1e9) return `${trim(v / 1e9)}G`;
  if (a >= 1e6) return `${trim(v / 1e6)}M`;
  if (a >= 1e4) return `${trim(v / 1e3)}k`;
  if (a >= 1) return trim(v);
  return a === 0 ? '0' : trim(v);
}

interface Scale {
  map: (v: number) => number;
  ticks: number[];
  log: boolean;
}

function niceStep(range: number, count: number): number {
  const raw = range / Math.max(1, count);
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

/** Log when asked, or ('auto') when the positive values span more than a decade and a half. */
function wantsLog(values: readonly number[], log: boolean | 'auto'): boolean {
  const pos = values.filter((v) => v > 0 && Number.isFinite(v));
  if (log !== 'auto') return log && pos.length > 0;
  if (pos.length === 0 || pos.length !== values.filter(Number.isFinite).length) return false;
  return Math.max(...pos) / Math.min(...pos) > 30;
}

function scale(values: readonly number[], log: boolean | 'auto', top: number, bottom: number, zero = true): Scale {
  const fin = values.filter(Number.isFinite);
  if (wantsLog(fin, log)) {
    const pos = fin.filter((v) => v > 0);
    const lo = 10 ** Math.floor(Math.log10(Math.min(...pos)) - 1e-9);
    const hi = 10 ** Math.ceil(Math.log10(Math.max(...pos)));
    const decades = Math.log10(hi / lo);
    const ticks: number[] = [];
    for (let d = lo; d <= hi * 1.0001; d *= 10) {
      ticks.push(d);
      if (decades <= 3 && d < hi) ticks.push(2 * d, 5 * d);
    }
    const map = (v: number): number => bottom - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / decades) * (bottom - top);
    return { map, ticks: ticks.filter((t) => t <= hi * 1.0001), log: true };
  }
  let lo = zero ? Math.min(0, ...fin) : Math.min(...fin);
  let hi = Math.max(...fin, lo + 1e-9);
  if (!zero) {
    const pad = (hi - lo) * 0.1 || Math.abs(hi) * 0.1 || 1;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep(hi - lo, 5);
  lo = Math.floor(lo / step) * step;
  hi = Math.ceil(hi / step) * step;
  const ticks: number[] = [];
  for (let t = lo; t <= hi + step / 1e6; t += step) ticks.push(Number(t.toPrecision(12)));
  const map = (v: number): number => bottom - ((v - lo) / (hi - lo || 1)) * (bottom - top);
  return { map, ticks, log: false };
}

export interface RefLine {
  value: number;
  label: string;
  color?: string;
}

interface Frame {
  width: number;
  height: number;
  title: string;
  subtitle?: string;
  caption: string;
  yLabel: string;
  xLabel?: string;
}

const FONT = 'font-family="Helvetica, Arial, sans-serif"';

function text(x: number, y: number, s: string, attrs = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${esc(s)}</text>`;
}

function open(f: Frame): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${f.width}" height="${f.height}" viewBox="0 0 ${f.width} ${f.height}" ${FONT} font-size="12">`,
    `<title>${esc(f.title)}</title>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    text(f.width / 2, 24, f.title, 'text-anchor="middle" font-size="16" font-weight="bold"'),
    ...(f.subtitle === undefined ? [] : [text(f.width / 2, 42, f.subtitle, 'text-anchor="middle" font-size="12" fill="#444"')]),
  ];
}

function close(out: string[], f: Frame): string {
  out.push(text(f.width / 2, f.height - 10, f.caption, 'text-anchor="middle" font-size="11" fill="#555"'));
  out.push('</svg>');
  return out.join('\n') + '\n';
}

function yAxis(out: string[], s: Scale, left: number, right: number, top: number, bottom: number, label: string, fmt: (v: number) => string): void {
  for (const t of s.ticks) {
    const y = s.map(t);
    const major = !s.log || Math.abs(Math.log10(t) - Math.round(Math.log10(t))) < 1e-9;
    out.push(`<line x1="${left}" x2="${right}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="${major ? '#d0d0d0' : '#ececec'}"/>`);
    out.push(text(left - 6, y + 4, fmt(t), 'text-anchor="end" fill="#333"'));
  }
  out.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${bottom}" stroke="#333"/>`);
  out.push(`<line x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}" stroke="#333"/>`);
  const cy = (top + bottom) / 2;
  out.push(text(18, cy, label + (s.log ? ' (log scale)' : ''), `text-anchor="middle" transform="rotate(-90 18 ${cy.toFixed(1)})" fill="#222"`));
}

function legend(out: string[], items: { label: string; color: string; kind: 'box' | 'line' | 'marker' | 'dash' }[], x: number, y: number, maxWidth: number): number {
  let cx = x;
  let cy = y;
  for (const it of items) {
    const w = 24 + it.label.length * 6.4 + 14;
    if (cx + w > x + maxWidth) {
      cx = x;
      cy += 18;
    }
    if (it.kind === 'box') out.push(`<rect x="${cx}" y="${cy - 9}" width="14" height="10" fill="${it.color}"/>`);
    else if (it.kind === 'marker') out.push(`<line x1="${cx}" x2="${cx + 14}" y1="${cy - 4}" y2="${cy - 4}" stroke="${it.color}" stroke-width="3"/>`);
    else out.push(`<line x1="${cx}" x2="${cx + 14}" y1="${cy - 4}" y2="${cy - 4}" stroke="${it.color}" stroke-width="2"${it.kind === 'dash' ? ' stroke-dasharray="5 3"' : ''}/>`);
    out.push(text(cx + 20, cy, it.label, 'fill="#222"'));
    cx += w;
  }
  return cy;
}

export interface BarSeries {
  key: string;
  label: string;
  color: string;
}

export interface BarGroup {
  label: string;
  sublabel?: string;
  /** series key → value (missing: no bar) */
  values: Record<string, number | undefined>;
  /** series key → a marker drawn across that series' bar slot (e.g. a baseline for the same configuration) */
  markers?: Record<string, number | undefined>;
}

export interface BarChartOptions extends Partial<Pick<Frame, 'width' | 'height' | 'subtitle' | 'xLabel'>> {
  title: string;
  caption: string;
  yLabel: string;
  series: BarSeries[];
  groups: BarGroup[];
  /** what the markers are, for the legend */
  markerLabel?: string;
  log?: boolean | 'auto';
  refLines?: RefLine[];
  format?: (v: number) => string;
  /** print the value above each bar */
  labels?: boolean;
}

export function barChart(o: BarChartOptions): string {
  const f: Frame = { width: o.width ?? 900, height: o.height ?? 480, title: o.title, caption: o.caption, yLabel: o.yLabel, ...(o.subtitle === undefined ? {} : { subtitle: o.subtitle }), ...(o.xLabel === undefined ? {} : { xLabel: o.xLabel }) };
  const fmt = o.format ?? compact;
  const out = open(f);
  const left = 78;
  const right = f.width - 20;
  const top = o.subtitle === undefined ? 78 : 92;
  const bottom = f.height - (o.xLabel === undefined ? 78 : 94);
  const used = o.series.filter((s) => o.groups.some((g) => g.values[s.key] !== undefined));
  const all: number[] = [];
  for (const g of o.groups) {
    for (const s of used) {
      const v = g.values[s.key];
      if (v !== undefined) all.push(v);
      const m = g.markers?.[s.key];
      if (m !== undefined) all.push(m);
    }
  }
  for (const r of o.refLines ?? []) all.push(r.value);
  const s = scale(all.length === 0 ? [1] : all, o.log ?? 'auto', top, bottom);
  yAxis(out, s, left, right, top, bottom, o.yLabel, fmt);
  const items: Parameters<typeof legend>[1] = used.map((x) => ({ label: x.label, color: x.color, kind: 'box' as const }));
  if (o.markerLabel !== undefined && o.groups.some((g) => g.markers !== undefined && Object.values(g.markers).some((v) => v !== undefined))) items.push({ label: o.markerLabel, color: '#111', kind: 'marker' });
  for (const r of o.refLines ?? []) items.push({ label: r.label, color: r.color ?? '#c00', kind: 'dash' });
  legend(out, items, left, (o.subtitle === undefined ? 58 : 72) - 6, right - left);
  const gw = (right - left) / Math.max(1, o.groups.length);
  const inner = gw * 0.84;
  o.groups.forEach((g, gi) => {
    const present = used.filter((x) => g.values[x.key] !== undefined);
    const bw = inner / Math.max(1, present.length);
    const x0 = left + gi * gw + (gw - inner) / 2;
    present.forEach((x, i) => {
      const v = g.values[x.key]!;
      const y = s.map(v);
      const bx = x0 + i * bw;
      out.push(`<rect x="${(bx + 1).toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${Math.max(0, bottom - y).toFixed(1)}" fill="${x.color}"><title>${esc(`${g.label} · ${x.label}: ${fmt(v)}`)}</title></rect>`);
      if (o.labels === true && bw >= 18) {
        const lx = bx + bw / 2;
        out.push(text(lx, y - 4, fmt(v), `text-anchor="middle" font-size="${bw < 30 ? 8 : 9}" fill="#333"`));
      }
      const m = g.markers?.[x.key];
      if (m !== undefined) {
        const my = s.map(m);
        out.push(`<line x1="${(bx + 1).toFixed(1)}" x2="${(bx + bw - 1).toFixed(1)}" y1="${my.toFixed(1)}" y2="${my.toFixed(1)}" stroke="#111" stroke-width="3"><title>${esc(`${g.label} · ${x.label} · ${o.markerLabel ?? 'marker'}: ${fmt(m)}`)}</title></line>`);
      }
    });
    const cx = left + gi * gw + gw / 2;
    out.push(text(cx, bottom + 18, g.label, 'text-anchor="middle" fill="#222"'));
    if (g.sublabel !== undefined) out.push(text(cx, bottom + 33, g.sublabel, 'text-anchor="middle" font-size="11" fill="#555"'));
  });
  for (const r of o.refLines ?? []) {
    const y = s.map(r.value);
    out.push(`<line x1="${left}" x2="${right}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="${r.color ?? '#c00'}" stroke-width="1.5" stroke-dasharray="6 4"/>`);
  }
  if (o.xLabel !== undefined) out.push(text((left + right) / 2, bottom + 54, o.xLabel, 'text-anchor="middle" fill="#222"'));
  return close(out, f);
}

export interface LineSeries {
  label: string;
  color: string;
  points: readonly (readonly [number, number])[];
  dashed?: boolean;
}

export interface LineChartOptions extends Partial<Pick<Frame, 'width' | 'height' | 'subtitle'>> {
  title: string;
  caption: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  log?: boolean | 'auto';
  /** include zero in the y range (default true) */
  zero?: boolean;
  refLines?: RefLine[];
  /** vertical lines at these x values */
  xMarks?: { value: number; label: string }[];
  format?: (v: number) => string;
}

export function lineChart(o: LineChartOptions): string {
  const f: Frame = { width: o.width ?? 900, height: o.height ?? 420, title: o.title, caption: o.caption, yLabel: o.yLabel, xLabel: o.xLabel, ...(o.subtitle === undefined ? {} : { subtitle: o.subtitle }) };
  const fmt = o.format ?? compact;
  const out = open(f);
  const left = 78;
  const right = f.width - 20;
  const top = o.subtitle === undefined ? 78 : 92;
  const bottom = f.height - 70;
  const ys = o.series.flatMap((s) => s.points.map((p) => p[1]));
  for (const r of o.refLines ?? []) ys.push(r.value);
  const xs = o.series.flatMap((s) => s.points.map((p) => p[0]));
  const sy = scale(ys.length === 0 ? [1] : ys, o.log ?? 'auto', top, bottom, o.zero ?? true);
  const sx = scale(xs.length === 0 ? [1] : xs, false, left, right, true);
  // x maps left → right: reuse the linear scale on an inverted range.
  const xmin = Math.min(...sx.ticks);
  const xmax = Math.max(...sx.ticks);
  const mapX = (v: number): number => left + ((v - xmin) / (xmax - xmin || 1)) * (right - left);
  yAxis(out, sy, left, right, top, bottom, o.yLabel, fmt);
  for (const t of sx.ticks) {
    const x = mapX(t);
    out.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${bottom}" y2="${bottom + 5}" stroke="#333"/>`);
    out.push(text(x, bottom + 18, compact(t), 'text-anchor="middle" fill="#333"'));
  }
  out.push(text((left + right) / 2, bottom + 38, o.xLabel, 'text-anchor="middle" fill="#222"'));
  for (const m of o.xMarks ?? []) {
    const x = mapX(m.value);
    out.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${top}" y2="${bottom}" stroke="#999" stroke-dasharray="3 3"/>`);
    out.push(text(x + 4, top + 12, m.label, 'font-size="11" fill="#666"'));
  }
  for (const r of o.refLines ?? []) {
    const y = sy.map(r.value);
    out.push(`<line x1="${left}" x2="${right}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="${r.color ?? '#c00'}" stroke-width="1.5" stroke-dasharray="6 4"/>`);
  }
  for (const s of o.series) {
    if (s.points.length === 0) continue;
    const d = s.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${mapX(p[0]).toFixed(1)},${sy.map(p[1]).toFixed(1)}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8"${s.dashed === true ? ' stroke-dasharray="5 3"' : ''}><title>${esc(s.label)}</title></path>`);
    if (s.points.length <= 12) for (const p of s.points) out.push(`<circle cx="${mapX(p[0]).toFixed(1)}" cy="${sy.map(p[1]).toFixed(1)}" r="3" fill="${s.color}"/>`);
  }
  const items: Parameters<typeof legend>[1] = o.series.map((s) => ({ label: s.label, color: s.color, kind: s.dashed === true ? ('dash' as const) : ('line' as const) }));
  for (const r of o.refLines ?? []) items.push({ label: r.label, color: r.color ?? '#c00', kind: 'dash' });
  legend(out, items, left, (o.subtitle === undefined ? 58 : 72) - 6, right - left);
  return close(out, f);
}
