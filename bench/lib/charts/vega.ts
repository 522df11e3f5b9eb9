/**
 * Chart specifications for bench/chart.ts in Vega-Lite (grouped bars with
 * optional markers and reference lines; lines over time), and their
 * rendering to SVG with Vega, headless (no canvas, no browser).
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
export const GREY = '#8c8c8c';
const FONT = 'Helvetica, Arial, sans-serif';
const DASH = [6, 4];

/**
 * Without a canvas Vega guesses text widths as 0.8 em a character, which
 * widens every chart around its long titles; this guess follows Helvetica's
 * widths a little generously, so that no label is cut at the edge.
 */
type Measured = { fontSize?: number; fontWeight?: string | number };
// textMetrics is exported by vega (vega-scenegraph) but not declared in its types.
(vega as unknown as { textMetrics: { width: (item: Measured, text: unknown) => number } }).textMetrics.width = (item, text) => {
  const size = item.fontSize ?? 11;
  const bold = item.fontWeight === 'bold' || Number(item.fontWeight) >= 600 ? 1.08 : 1;
  let em = 0;
  for (const c of String(text ?? '')) em += /[\s.,:;'’|!()[\]ilIjft]/.test(c) ? 0.32 : /[A-Zmw%—→≤≥µ−]/.test(c) ? 0.78 : 0.58;
  return em * size * bold;
};

/** 1,234,567 → "1.23M", 12,345 → "12.3k", 0.5 → "0.5". */
export function compact(v: number): string {
  const a = Math.abs(v);
  const trim = (x: number): string => String(Number(x.toPrecision(3)));
  if (a >= 1e9) return `${trim(v / 1e9)}G`;
  if (a >= 1e6) return `${trim(v / 1e6)}M`;
  if (a >= 1e4) return `${trim(v / 1e3)}k`;
  return a === 0 ? '0' : trim(v);
}

/** Log when asked, or ('auto') when every value is positive and they span more than a decade and a half. */
export function wantsLog(values: readonly number[], log: boolean | 'auto'): boolean {
  const fin = values.filter(Number.isFinite);
  const pos = fin.filter((v) => v > 0);
  if (log !== 'auto') return log && pos.length > 0;
  return pos.length > 0 && pos.length === fin.length && Math.max(...pos) / Math.min(...pos) > 30;
}

export interface RefLine {
  value: number;
  label: string;
  color?: string;
}

interface Frame {
  title: string;
  subtitle?: string;
  /** one line under the chart (the machine and the run) */
  caption: string;
  yLabel: string;
  /** plot width in pixels (default 800) */
  width?: number;
  log?: boolean | 'auto';
  refLines?: RefLine[];
  /** d3 format of the y axis' labels (default: SI, 1M, 20k) */
  yFormat?: string;
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
  /** series key → a marker drawn across that series' bar (e.g. a baseline for the same configuration) */
  markers?: Record<string, number | undefined>;
}

export interface BarChartOptions extends Frame {
  xLabel: string;
  series: BarSeries[];
  groups: BarGroup[];
  /** what the markers are, for the legend */
  markerLabel?: string;
  /** print the value above each bar */
  labels?: boolean;
  format?: (v: number) => string;
}

export interface LineSeries {
  label: string;
  color: string;
  points: readonly (readonly [number, number])[];
  dashed?: boolean;
}

export interface LineChartOptions extends Frame {
  xLabel: string;
  series: LineSeries[];
  /** vertical lines at these x values, labelled at the top */
  xMarks?: { value: number; label: string }[];
}

type Layer = Record<string, unknown>;
const HEIGHT = 300;

/** Title, subtitle, the chart, and the caption under it; shared look. */
function frame(f: Frame, width: number, layers: Layer[]): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    padding: 12,
    title: { text: f.title, ...(f.subtitle === undefined ? {} : { subtitle: f.subtitle }), anchor: 'middle', fontSize: 16, subtitleFontSize: 12, subtitleColor: '#444', offset: 12 },
    vconcat: [
      { width, height: HEIGHT, layer: layers },
      // The caption: a text mark in a view of its own under the chart (Vega-Lite has no caption).
      { width, height: 1, data: { values: [{}] }, mark: { type: 'text', fontSize: 11, color: '#555', baseline: 'top' }, encoding: { x: { value: width / 2 }, y: { value: 0 }, text: { value: f.caption } } },
    ],
    spacing: 14,
    config: {
      font: FONT,
      view: { stroke: null },
      axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', labelColor: '#333', titleColor: '#222', gridColor: '#e0e0e0', domainColor: '#333', tickColor: '#333', labelLimit: 0 },
      legend: { orient: 'top', direction: 'horizontal', labelFontSize: 12, labelLimit: 0, title: null, columnPadding: 16, symbolStrokeWidth: 2, symbolSize: 180 },
    },
  } as TopLevelSpec;
}

/**
 * The y encoding of every layer: linear from zero, or log over whole decades
 * with a tick at each (and at 2 and 5 when there are three decades or fewer).
 */
function yEncoding(f: Frame, field: string, values: readonly number[], log: boolean): Layer {
  const axis = {
    title: f.yLabel + (log ? ' (log scale)' : ''),
    // Each label formatted alone: a shared SI prefix would print "0M" and "0.5M".
    labelExpr: `format(datum.value, ${JSON.stringify(f.yFormat ?? '~s')})`,
  };
  if (!log) return { field, type: 'quantitative', stack: null, scale: { type: 'linear', zero: true, nice: true }, axis };
  const pos = values.filter((v) => v > 0 && Number.isFinite(v));
  const lo = 10 ** Math.floor(Math.log10(Math.min(...pos)) - 1e-9);
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...pos)));
  const ticks: number[] = [];
  for (let d = lo; d <= hi * 1.0001; d *= 10) ticks.push(Number(d.toPrecision(6)), ...(Math.log10(hi / lo) <= 3 && d < hi ? [2 * d, 5 * d].map((t) => Number(t.toPrecision(6))) : []));
  return { field, type: 'quantitative', stack: null, scale: { type: 'log', domain: [lo, hi] }, axis: { ...axis, values: ticks } };
}

/**
 * The stroke channel of the bar chart: the reference lines (dashed rules) and
 * the markers (solid ticks) named in one legend of their own, each drawn as it
 * is in the chart.
 */
function strokeChannel(field: string, items: { label: string; color: string; solid: boolean }[]): Layer {
  const solid = items.filter((i) => i.solid).map((i) => `datum.label === ${JSON.stringify(i.label)}`).join(' || ') || 'false';
  const legend = { symbolType: 'stroke', encode: { symbols: { update: { strokeDash: { signal: `${solid} ? [] : [${DASH.join(',')}]` }, strokeWidth: { signal: `${solid} ? 3 : 2` } } } } };
  return { field, type: 'nominal', scale: { domain: items.map((i) => i.label), range: items.map((i) => i.color) }, legend };
}

export function barChart(o: BarChartOptions): TopLevelSpec {
  const fmt = o.format ?? compact;
  const used = o.series.filter((s) => o.groups.some((g) => g.values[s.key] !== undefined));
  const groupName = (g: BarGroup): string => (g.sublabel === undefined ? g.label : `${g.label}\n${g.sublabel}`);
  // desc: what a screen reader says of the bar (the SVG's aria-label), on one line.
  const desc = (g: BarGroup, what: string, v: number): string => `${g.label}${g.sublabel === undefined ? '' : ` (${g.sublabel})`} · ${what}: ${fmt(v)}`;
  const bars = o.groups.flatMap((g) => used.filter((s) => g.values[s.key] !== undefined).map((s) => ({ group: groupName(g), series: s.label, value: g.values[s.key]!, text: fmt(g.values[s.key]!), desc: desc(g, s.label, g.values[s.key]!) })));
  const markers = o.groups.flatMap((g) =>
    used.filter((s) => g.markers?.[s.key] !== undefined).map((s) => ({ group: groupName(g), series: s.label, value: g.markers![s.key]!, kind: o.markerLabel ?? 'marker', desc: desc(g, `${s.label} · ${o.markerLabel ?? 'marker'}`, g.markers![s.key]!) })),
  );
  const refs = o.refLines ?? [];
  const log = wantsLog([...bars, ...markers, ...refs].map((r) => r.value), o.log ?? 'auto');
  const width = o.width ?? 800;
  // Band widths as Vega-Lite lays them out (paddingInner of x and xOffset below), for the markers and the labels.
  const barWidth = ((width / Math.max(1, o.groups.length)) * 0.84) / Math.max(1, used.length);
  const x = { field: 'group', type: 'nominal', sort: o.groups.map(groupName), scale: { paddingInner: 0.16, paddingOuter: 0.08 }, axis: { title: o.xLabel, description: `X-axis: ${o.xLabel}`, labelAngle: 0, labelExpr: "split(datum.label, '\\n')", labelFontSize: 12, labelPadding: 6, titlePadding: 10, ticks: false } };
  const xOffset = { field: 'series', type: 'nominal', scale: { domain: used.map((s) => s.label), paddingInner: 0.06 } };
  const y = yEncoding(o, 'value', [...bars, ...markers, ...refs].map((r) => r.value), log);
  const strokes = [...(markers.length > 0 ? [{ label: o.markerLabel ?? 'marker', color: '#111', solid: true }] : []), ...refs.map((r) => ({ label: r.label, color: r.color ?? '#c00', solid: false }))];
  const stroke = (field: string): Layer => strokeChannel(field, strokes);
  const layers: Layer[] = [
    {
      data: { values: bars },
      mark: { type: 'bar' },
      encoding: { x, xOffset, y, color: { field: 'series', type: 'nominal', scale: { domain: used.map((s) => s.label), range: used.map((s) => s.color) }, legend: { symbolType: 'square' } }, description: { field: 'desc' } },
    },
  ];
  if (o.labels === true && barWidth >= 18) {
    layers.push({ data: { values: bars }, mark: { type: 'text', aria: false, baseline: 'bottom', dy: -3, fontSize: barWidth < 30 ? 8 : 9, color: '#333' }, encoding: { x, xOffset, y, text: { field: 'text' } } });
  }
  if (markers.length > 0) {
    // A tick as wide as the bar, outlined through the stroke channel so that it shares the reference lines' legend.
    layers.push({ data: { values: markers }, mark: { type: 'tick', orient: 'horizontal', size: Math.max(2, barWidth - 2), thickness: 0.5, strokeWidth: 2.5, fill: '#111', opacity: 1 }, encoding: { x, xOffset, y, stroke: stroke('kind'), description: { field: 'desc' } } });
  }
  if (refs.length > 0) {
    layers.push({ data: { values: refs.map((r) => ({ value: r.value, ref: r.label })) }, mark: { type: 'rule', strokeWidth: 1.5, strokeDash: DASH }, encoding: { y, stroke: stroke('ref') } });
  }
  return frame(o, width, layers);
}

export function lineChart(o: LineChartOptions): TopLevelSpec {
  const rows = o.series.flatMap((s) => s.points.map(([x, y]) => ({ series: s.label, x, y })));
  const refs = o.refLines ?? [];
  const log = wantsLog([...rows.map((r) => r.y), ...refs.map((r) => r.value)], o.log ?? 'auto');
  const width = o.width ?? 800;
  const x = { field: 'x', type: 'quantitative', scale: { nice: true, zero: true }, axis: { title: o.xLabel, format: '~s', grid: false, titlePadding: 10 } };
  const y = yEncoding(o, 'y', [...rows.map((r) => r.y), ...refs.map((r) => r.value)], log);
  // Lines and reference lines share one legend: solid or dashed as drawn.
  const items = [...o.series.map((s) => ({ label: s.label, color: s.color, dashed: s.dashed === true })), ...refs.map((r) => ({ label: r.label, color: r.color ?? '#c00', dashed: true }))];
  const color = { field: 'series', type: 'nominal', scale: { domain: items.map((i) => i.label), range: items.map((i) => i.color) }, legend: { symbolType: 'stroke' } };
  // Same field as the colour: Vega-Lite merges the two into one legend that shows both.
  const dashes = { field: 'series', type: 'nominal', scale: { domain: items.map((i) => i.label), range: items.map((i) => (i.dashed ? DASH : [1, 0])) } };
  const layers: Layer[] = [
    { data: { values: rows }, mark: { type: 'line', strokeWidth: 1.8, point: rows.length <= 12 * o.series.length }, encoding: { x, y, color, strokeDash: dashes } },
  ];
  if (refs.length > 0) {
    layers.push({ data: { values: refs.map((r) => ({ y: r.value, series: r.label })) }, mark: { type: 'rule', strokeWidth: 1.5, strokeDash: DASH }, encoding: { y, color, strokeDash: dashes } });
  }
  for (const m of o.xMarks ?? []) {
    layers.push({ data: { values: [{ x: m.value, label: m.label }] }, mark: { type: 'rule', color: '#999', strokeDash: [3, 3] }, encoding: { x } });
    layers.push({ data: { values: [{ x: m.value, label: m.label }] }, mark: { type: 'text', align: 'left', baseline: 'top', dx: 4, fontSize: 11, color: '#666' }, encoding: { x, y: { value: 2 }, text: { field: 'label' } } });
  }
  return frame(o, width, layers);
}

/** Vega's own configuration (no Vega-Lite equivalent): several legends on top go one under the other. */
const VEGA_CONFIG = { legend: { layout: { top: { direction: 'vertical', anchor: 'start', margin: 6 } } } } as vega.Config;

/** The SVG of a Vega-Lite specification, drawn by Vega without a browser. */
export async function toSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec, VEGA_CONFIG), { renderer: 'none' });
  try {
    return `${await view.toSVG()}\n`;
  } finally {
    view.finalize();
  }
}
