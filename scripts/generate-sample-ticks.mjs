#!/usr/bin/env node
// Generates the committed sample: a seeded random walk with trending and
// quiet stretches over a few NSE instruments, one tick per line, at the
// volatility a trader would recognise. Deterministic: the same seed gives
// the same file.
//   node scripts/generate-sample-ticks.mjs [--ticks N] [--seed S] [--out FILE]
//
// Each instrument moves by a geometric random walk whose per-tick volatility
// comes from its annualised volatility, scaled to the time since its own last
// tick: sigma_tick = sigma_year * sqrt(dt / trading seconds per year), with
// 252 sessions of 6 h 15 min (NSE 09:15-15:30). Now and then a trend starts or
// ends: a drift of up to a quarter of sigma_tick per tick, which adds a little to
// the realised volatility and gives the momentum strategies something to see.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
// Compiled sources: `npm run sample:generate` builds first.
import { gaussian, mulberry32 } from '../dist/src/sim/prng.js';
import { NSE_INSTRUMENTS, tickSigma } from '../dist/src/sim/instruments.js';

const { values } = parseArgs({
  options: {
    ticks: { type: 'string', default: '6000' },
    seed: { type: 'string', default: '20241121' },
    out: { type: 'string', default: 'samples/ticks.jsonl' },
    start: { type: 'string', default: '2024-11-21T03:45:00.000Z' }, // 09:15 IST
  },
});

const rand = mulberry32(Number(values.seed));
const gauss = () => gaussian(rand);

// Prices, annualised volatilities and weights: src/sim/instruments.ts (copied: the walk moves them).
const instruments = NSE_INSTRUMENTS.map((i) => ({ ...i }));
const totalWeight = instruments.reduce((a, i) => a + i.weight, 0);
for (const i of instruments) {
  i.trend = 0; // drift per tick, in units of that tick's sigma
  i.volume = 0;
  i.lastTs = undefined;
}

const n = Number(values.ticks);
let ts = Date.parse(values.start);
const lines = [];
for (let k = 0; k < n; k++) {
  ts += 20 + Math.floor(rand() * 180);
  let r = rand() * totalWeight;
  const inst = instruments.find((i) => (r -= i.weight) < 0) ?? instruments[0];
  // Seconds since this instrument's last tick (its share of the ticks, at the
  // mean gap, for its first one).
  const dt = inst.lastTs === undefined ? (0.11 * totalWeight) / inst.weight : (ts - inst.lastTs) / 1000;
  inst.lastTs = ts;
  const sigma = tickSigma(inst.annualVol, dt);
  // Regime switches: now and then a trend starts or ends.
  if (rand() < 0.01) inst.trend = rand() < 0.4 ? 0 : (rand() - 0.5) * 0.5;
  inst.price *= Math.exp(sigma * (inst.trend + gauss()));
  inst.price = Math.max(0.05, Math.round(inst.price * 20) / 20); // NSE tick size 0.05
  inst.volume += 1 + Math.floor(rand() * 500);
  const tick = {
    instrument_token: inst.token,
    last_price: Number(inst.price.toFixed(2)),
    // Every fifth tick carries an ISO timestamp in IST, as some feeds send.
    timestamp: k % 5 === 0 ? isoIst(ts) : ts,
    volume: inst.volume,
    tradingsymbol: inst.name,
  };
  lines.push(JSON.stringify(tick));
}
writeFileSync(values.out, lines.join('\n') + '\n');
process.stderr.write(`wrote ${n} ticks to ${values.out}\n`);

function isoIst(ms) {
  const d = new Date(ms + 5.5 * 3600_000);
  return d.toISOString().replace('Z', '+05:30');
}
