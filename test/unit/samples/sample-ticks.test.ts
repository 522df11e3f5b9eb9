import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeTick } from '../../../src/domain/tick.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const GENERATOR = join(ROOT, 'scripts/generate-sample-ticks.mjs');
const SAMPLE = join(ROOT, 'samples/ticks.jsonl');
/** NSE: 252 sessions a year of 6 h 15 min (09:15-15:30). */
const TRADING_SECONDS_PER_YEAR = 252 * 6.25 * 3600;

/** Annualised volatility a trader would recognise, and the most a session of ~11 minutes may move. */
const BANDS: Record<number, { name: string; vol: [number, number]; maxMove: number }> = {
  256265: { name: 'NIFTY 50', vol: [0.1, 0.18], maxMove: 0.015 },
  260105: { name: 'NIFTY BANK', vol: [0.12, 0.24], maxMove: 0.015 },
  738561: { name: 'RELIANCE', vol: [0.15, 0.4], maxMove: 0.03 },
  341249: { name: 'HDFCBANK', vol: [0.15, 0.4], maxMove: 0.03 },
  408065: { name: 'INFY', vol: [0.15, 0.4], maxMove: 0.03 },
  2953217: { name: 'TCS', vol: [0.15, 0.4], maxMove: 0.03 },
};

interface Realised {
  ticks: number;
  /** annualised, from the squared log returns over the time they span */
  vol: number;
  /** last price / first price − 1 */
  move: number;
}

function realised(file: string): Map<number, Realised> {
  const acc = new Map<number, { n: number; sq: number; secs: number; first: number; prev: number; prevTs: number }>();
  for (const line of readFileSync(file, 'utf8').trimEnd().split('\n')) {
    const d = decodeTick(line);
    if (!d.ok) throw new Error(d.reason);
    const { instrument_token: token, last_price: p, timestamp: ts } = d.tick;
    const a = acc.get(token);
    if (a === undefined) {
      acc.set(token, { n: 1, sq: 0, secs: 0, first: p, prev: p, prevTs: ts });
      continue;
    }
    const r = Math.log(p / a.prev);
    a.sq += r * r;
    a.secs += (ts - a.prevTs) / 1000;
    a.n++;
    a.prev = p;
    a.prevTs = ts;
  }
  return new Map([...acc].map(([t, a]) => [t, { ticks: a.n, vol: Math.sqrt((a.sq / a.secs) * TRADING_SECONDS_PER_YEAR), move: a.prev / a.first - 1 }]));
}

function generate(args: string[]): string {
  const out = join(mkdtempSync(join(tmpdir(), 'sr-sample-')), 'ticks.jsonl');
  execFileSync(process.execPath, [GENERATOR, '--out', out, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  return out;
}

function expectRealistic(file: string): void {
  const r = realised(file);
  expect([...r.keys()].sort()).toEqual(Object.keys(BANDS).map(Number).sort());
  for (const [token, band] of Object.entries(BANDS)) {
    const x = r.get(Number(token))!;
    const what = `${band.name} in ${file}: ${x.ticks} ticks, realised volatility ${(x.vol * 100).toFixed(1)}%/year, moved ${(x.move * 100).toFixed(2)}%`;
    expect(x.ticks, what).toBeGreaterThan(300);
    expect(x.vol, what).toBeGreaterThanOrEqual(band.vol[0]);
    expect(x.vol, what).toBeLessThanOrEqual(band.vol[1]);
    expect(Math.abs(x.move), what).toBeLessThanOrEqual(band.maxMove);
  }
}

describe('the sample ticks (scripts/generate-sample-ticks.mjs)', () => {
  it('move each instrument at a realistic annualised volatility, with no crash or rally in a few minutes', () => {
    expectRealistic(SAMPLE);
  });

  it('are realistic whatever the seed', () => {
    for (const seed of ['1', '7', '99']) expectRealistic(generate(['--seed', seed]));
  });

  it('are what the generator writes with its defaults (the committed file is up to date)', () => {
    expect(readFileSync(generate([]), 'utf8')).toBe(readFileSync(SAMPLE, 'utf8'));
  });
});
