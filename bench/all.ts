/**
 * The whole benchmark suite, one program after another (never in parallel:
 * on a 2-core machine they would measure each other), then the charts.
 * Each program runs in its own process and writes
 * bench/results/<name>-<quick|full>.json; the charts go to docs/img/.
 *   node dist/bench/all.js [--quick] [--only dispatch,e2e,produce,latency,latency-probe10,memory,scale-out,exactly-once,indicators] [--brokers H:P]
 *                          [--baseline-runner DIR]   (e2e: an earlier build's runner, interleaved: bench/e2e.ts)
 * `npm run bench` runs it in full mode (about an hour on 2 cores, the
 * 10-minute soak included), `npm run bench:quick` in quick mode (a few minutes).
 * One broker serves the Kafka benchmarks: the one given (--brokers or
 * KAFKA_BROKERS), else a private one started for the run and stopped after.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { useBroker } from './lib/broker.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const PROGRAMS = ['dispatch', 'e2e', 'produce', 'latency', 'latency-probe10', 'memory', 'scale-out', 'exactly-once', 'indicators'] as const;
const NEEDS_BROKER = new Set<string>(['e2e', 'produce', 'latency', 'latency-probe10', 'scale-out', 'exactly-once']);
/** Variants: the same program with other settings, written to their own result file. */
const VARIANTS: Record<string, { program: string; args: (mode: string) => string[] }> = {
  // one tick in ten gives a latency sample: the runner is not also producing a signal per tick
  'latency-probe10': { program: 'latency', args: (mode) => ['--probe-every', '10', '--out', join(HERE, '..', '..', 'bench', 'results', `latency-${mode}-probe10.json`)] },
};

function main(): number {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, only: { type: 'string' }, brokers: { type: 'string' }, 'baseline-runner': { type: 'string' } },
  });
  const only = values.only?.split(',').map((s) => s.trim());
  const unknown = only?.filter((p) => !(PROGRAMS as readonly string[]).includes(p)) ?? [];
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown program(s) ${unknown.join(', ')}; known: ${PROGRAMS.join(', ')}\n`);
    return 2;
  }
  const programs = PROGRAMS.filter((p) => only === undefined || only.includes(p));
  const mode = values.quick ? ['--quick'] : [];
  const broker = programs.some((p) => NEEDS_BROKER.has(p)) ? useBroker(values.brokers) : undefined;
  const failed: string[] = [];
  try {
    for (const p of programs) {
      const variant = VARIANTS[p];
      const baseline = p === 'e2e' && values['baseline-runner'] !== undefined ? ['--baseline-runner', values['baseline-runner']] : [];
      const args = [...mode, ...(NEEDS_BROKER.has(p) ? ['--brokers', broker!.brokers.join(',')] : []), ...baseline, ...(variant?.args(values.quick ? 'quick' : 'full') ?? [])];
      process.stdout.write(`\n=== ${p} ${args.join(' ')}\n`);
      const t0 = Date.now();
      const r = spawnSync(process.execPath, [join(HERE, `${variant?.program ?? p}.js`), ...args], { stdio: 'inherit' });
      process.stdout.write(`=== ${p}: ${r.status === 0 ? 'done' : `FAILED (exit ${r.status ?? r.signal})`} in ${Math.round((Date.now() - t0) / 1000)} s\n`);
      if (r.status !== 0) failed.push(p);
    }
  } finally {
    broker?.stop();
  }
  const chart = spawnSync(process.execPath, [join(HERE, 'chart.js'), '--mode', values.quick ? 'quick' : 'full'], { stdio: 'inherit' });
  if (chart.status !== 0) failed.push('chart');
  if (failed.length > 0) {
    process.stderr.write(`bench: failed: ${failed.join(', ')}\n`);
    return 1;
  }
  return 0;
}

process.exitCode = main();
