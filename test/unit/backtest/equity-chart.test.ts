import { describe, it, expect } from 'vitest';
import { equityChartSvg, thin, xml } from '../../../src/backtest/equity-chart.js';
import type { EquityPoint } from '../../../src/backtest/report.js';

const T0 = Date.UTC(2024, 0, 2, 9, 15);
const MIN = 60_000;

/** A minimal well-formedness check: every tag closes in order, attributes are quoted, no stray `<` or `&`. */
function expectWellFormed(svg: string): void {
  expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  expect(svg.endsWith('</svg>\n')).toBe(true);
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z]+)((?:\s+[a-zA-Z][a-zA-Z0-9:-]*="[^"<]*")*)\s*(\/?)>/g;
  let at = 0;
  for (const m of svg.matchAll(tag)) {
    const text = svg.slice(at, m.index);
    expect(text, `text before ${m[0]}`).not.toMatch(/[<>]|&(?!(?:lt|gt|amp|quot|apos);)/);
    at = m.index + m[0].length;
    const [, closing, name, , selfClosing] = m;
    if (closing === '/') expect(stack.pop(), `</${name}>`).toBe(name);
    else if (selfClosing !== '/') stack.push(name!);
  }
  expect(svg.slice(at).trim()).toBe('');
  expect(stack).toEqual([]);
  expect(svg).not.toMatch(/NaN|Infinity|undefined/);
}

function polylinePoints(svg: string): string[] {
  const m = /<polyline class="equity"[^>]* points="([^"]*)"/.exec(svg);
  if (m === null) throw new Error('no equity polyline');
  return m[1]!.split(' ');
}

describe('equityChartSvg', () => {
  const curve: EquityPoint[] = [
    { timestamp: T0, equity: 10_000 },
    { timestamp: T0, equity: 9_994 },
    { timestamp: T0 + 45 * MIN, equity: 10_012.7 },
    { timestamp: T0 + 120 * MIN, equity: 10_005 },
    { timestamp: T0 + 375 * MIN, equity: 10_018.7 },
  ];

  it('is a well-formed SVG with one line point per curve point', () => {
    const svg = equityChartSvg('ema-cross', curve, { netPnl: 18.7 });
    expectWellFormed(svg);
    expect(polylinePoints(svg)).toHaveLength(5);
  });

  it('gives the same bytes on every call', () => {
    expect(equityChartSvg('ema-cross', curve)).toBe(equityChartSvg('ema-cross', curve));
  });

  it('titles the chart with the id and the net P&L (given, else last − first)', () => {
    expect(equityChartSvg('ema-cross', curve, { netPnl: 18.7 })).toContain('ema-cross · net P&amp;L +18.70</text>');
    expect(equityChartSvg('ema-cross', curve)).toContain('net P&amp;L +18.70');
    expect(equityChartSvg('s', [curve[0]!, curve[1]!])).toContain('net P&amp;L -6.00');
  });

  it('escapes the strategy id', () => {
    const svg = equityChartSvg(`a<b&c"d'e>`, curve);
    expectWellFormed(svg);
    expect(svg).toContain('a&lt;b&amp;c&quot;d&apos;e&gt;');
    expect(svg).not.toContain('a<b');
    expect(xml('<&">')).toBe('&lt;&amp;&quot;&gt;');
  });

  it('shades the maximum drawdown, peak to trough', () => {
    // the fall: 10012.7 (at +45 min) → 10005 (at +120 min); the plot is 688 px wide over 375 min
    const svg = equityChartSvg('s', curve);
    const m = /<rect class="max-drawdown" x="([\d.]+)" y="\d+" width="([\d.]+)"/.exec(svg);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeCloseTo(88 + (45 / 375) * 688, 1);
    expect(Number(m![2])).toBeCloseTo((75 / 375) * 688, 1);
    expect(svg).toContain('max drawdown 7.70 (0.08%)');
    expect(svg.match(/class="max-drawdown-end"/g)).toHaveLength(2);
  });

  it('labels the axes with round UTC times and equities', () => {
    const svg = equityChartSvg('s', curve);
    // 6h15m: hourly ticks 10:00 … 15:00, the date once under the axis
    for (const h of ['10:00', '11:00', '12:00', '13:00', '14:00', '15:00']) expect(svg).toContain(`>${h}</text>`);
    expect(svg).toContain('time (UTC, 2024-01-02)');
    expect(svg).toContain('>10,000</text>');
  });

  it('shows dates on an axis spanning days', () => {
    const days = [
      { timestamp: Date.UTC(2024, 0, 1), equity: 1 },
      { timestamp: Date.UTC(2024, 0, 9), equity: 2 },
    ];
    const svg = equityChartSvg('s', days);
    expectWellFormed(svg);
    // 8 days: 2-day steps (multiples of 2 days since the epoch)
    for (const d of ['2024-01-02', '2024-01-04', '2024-01-06', '2024-01-08']) expect(svg).toContain(`>${d}</text>`);
    expect(svg).toContain('time (UTC)');
  });

  it('draws a single point as a dot', () => {
    const svg = equityChartSvg('s', [{ timestamp: T0, equity: 10_000 }]);
    expectWellFormed(svg);
    expect(polylinePoints(svg)).toHaveLength(1);
    expect(svg).toContain('<circle');
    expect(svg).toContain('no drawdown');
  });

  it('draws a flat curve (no fills: start and end at the initial cash) across the middle', () => {
    const svg = equityChartSvg('idle', [
      { timestamp: T0, equity: 10_000 },
      { timestamp: T0 + 375 * MIN, equity: 10_000 },
    ]);
    expectWellFormed(svg);
    const pts = polylinePoints(svg);
    expect(pts).toHaveLength(2);
    // plot from y=58, 250 high: the middle is 183
    expect(pts.map((p) => Number(p.split(',')[1]))).toEqual([183, 183]);
    expect(svg).toContain('net P&amp;L 0.00');
    expect(svg).not.toContain('class="max-drawdown"');
  });

  it('draws points at one instant (a backtest of one timestamp)', () => {
    const svg = equityChartSvg('s', [
      { timestamp: T0, equity: 100 },
      { timestamp: T0, equity: 99 },
      { timestamp: T0, equity: 101 },
    ]);
    expectWellFormed(svg);
    expect(polylinePoints(svg)).toHaveLength(3);
  });

  it('says so for an empty curve', () => {
    const svg = equityChartSvg('s', []);
    expectWellFormed(svg);
    expect(svg).not.toContain('<polyline');
    expect(svg).toContain('no equity points');
  });
});

describe('thin', () => {
  it('keeps a short curve as it is', () => {
    const c = [1, 2, 3].map((i) => ({ timestamp: i, equity: i }));
    expect(thin(c, (t) => t, 688)).toBe(c);
  });

  it('keeps each pixel column’s first, lowest, highest and last point of a long curve', () => {
    // 10,000 points over 10 columns of 1,000: each column keeps ≤ 4
    const c: EquityPoint[] = Array.from({ length: 10_000 }, (_, i) => ({ timestamp: i, equity: Math.sin(i / 37) * 100 + (i % 13) }));
    const kept = thin(c, (t) => t / 1000, 10);
    expect(kept.length).toBeLessThanOrEqual(40);
    expect(kept[0]).toBe(c[0]);
    expect(kept[kept.length - 1]).toBe(c[c.length - 1]);
    const min = c.reduce((a, p) => (p.equity < a.equity ? p : a));
    const max = c.reduce((a, p) => (p.equity > a.equity ? p : a));
    expect(kept).toContain(min);
    expect(kept).toContain(max);
    // in curve order
    expect(kept.map((p) => p.timestamp)).toEqual([...kept.map((p) => p.timestamp)].sort((a, b) => a - b));
  });

  it('is what the chart draws for a long curve', () => {
    const c: EquityPoint[] = Array.from({ length: 20_000 }, (_, i) => ({ timestamp: T0 + i * 1000, equity: 10_000 + (i % 100) }));
    const pts = polylinePoints(equityChartSvg('s', c));
    expect(pts.length).toBeLessThanOrEqual(4 * 688);
    expect(pts.length).toBeGreaterThan(688);
  });
});
