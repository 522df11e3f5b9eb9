#!/usr/bin/env node
// Generates the committed sample: a seeded random walk with trending and
// mean-reverting stretches over a few NSE instruments, one tick per line.
// Deterministic: the same seed gives the same file.
//   node scripts/generate-sample-ticks.mjs [--ticks N] [--seed S] [--out FILE]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
// Compiled sources: `npm run sample:generate` builds first.
import { gaussian, mulberry32 } from '../dist/src/sim/prng.js';

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

const instruments = [
  { token: 256265, name: 'NIFTY 50', price: 23_450, vol: 0.0009, weight: 3 },
  { token: 260105, name: 'NIFTY BANK', price: 50_120, vol: 0.0011, weight: 3 },
  { token: 738561, name: 'RELIANCE', price: 1_265, vol: 0.0012, weight: 1 },
  { token: 341249, name: 'HDFCBANK', price: 1_742, vol: 0.001, weight: 1 },
  { token: 408065, name: 'INFY', price: 1_860, vol: 0.0013, weight: 1 },
  { token: 2953217, name: 'TCS', price: 4_150, vol: 0.001, weight: 1 },
];
const totalWeight = instruments.reduce((a, i) => a + i.weight, 0);
for (const i of instruments) {
  i.drift = 0;
  i.volume = 0;
}

const n = Number(values.ticks);
let ts = Date.parse(values.start);
const lines = [];
for (let k = 0; k < n; k++) {
  ts += 20 + Math.floor(rand() * 180);
  let r = rand() * totalWeight;
  const inst = instruments.find((i) => (r -= i.weight) < 0) ?? instruments[0];
  // Regime switches: now and then a trend starts or ends.
  if (rand() < 0.01) inst.drift = (rand() - 0.5) * 4 * inst.vol;
  inst.price *= 1 + inst.drift + inst.vol * gauss();
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
