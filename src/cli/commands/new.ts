import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../../app/package-root.js';
import { RunnerError } from '../../errors.js';
import { BUILTIN_STRATEGIES } from '../../strategies/builtin/index.js';
import { UsageError } from '../usage-error.js';

export const NEW_USAGE = `Usage: strategy-runner new NAME [--dir DIR] [--style define|class] [--force]

Starts a strategy type of your own: writes into DIR (default: ./NAME in
kebab case, e.g. ./ma-cross for MaCross)
  <name>.mjs          the strategy NAME in plain JavaScript (threads never load
                      TypeScript): a moving-average crossover on 1-minute bars,
                      position-aware, with a max-hold timer
  <name>.test.mjs     its vitest test: hand-made ticks through runStrategy
                      (strategy-runner/testing), hand-computed signals
  strategies.json     one configuration of it (for --strategies)
  runner.json         a service configuration naming the module (for --config)
  README.md           how to replay, backtest and test it
and prints the next commands. Existing files are left alone unless --force.

Options:
  --dir DIR           where to write (created if missing)
  --style STYLE       define (defineStrategy, the default) or class (BaseStrategy)
  --force             overwrite existing files
  -h, --help          this help
`;

export const STYLES = ['define', 'class'] as const;
export type Style = (typeof STYLES)[number];

/** One generated file: its name in the directory, its text, and what it is (for the summary). */
export interface ScaffoldFile {
  readonly name: string;
  readonly content: string;
  readonly what: string;
}

export async function newCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      dir: { type: 'string' },
      style: { type: 'string', default: 'define' },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(NEW_USAGE);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('new needs a NAME, e.g. strategy-runner new MaCross');
  if (positionals.length > 1) throw new UsageError(`new takes one NAME, got ${positionals.length}: ${positionals.join(' ')}`);
  const name = positionals[0]!;
  checkName(name);
  const style = values.style;
  if (!(STYLES as readonly string[]).includes(style)) throw new UsageError(`--style must be one of ${STYLES.join(', ')}, got '${style}'`);

  const dir = resolve(values.dir ?? kebabCase(name));
  const files = scaffoldFiles(name, style as Style, packageRoot());
  const existing = files.map((f) => join(dir, f.name)).filter((p) => existsSync(p));
  if (existing.length > 0 && !values.force) {
    throw new UsageError(`${existing.map(shown).join(', ')} already exist${existing.length === 1 ? 's' : ''}; pass --force to overwrite`);
  }
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new RunnerError('OUTPUT_UNWRITABLE', `cannot create directory ${shown(dir)}: ${(err as Error).message}`, { cause: err, details: { path: dir } });
  }
  for (const f of files) {
    const path = join(dir, f.name);
    try {
      writeFileSync(path, f.content);
    } catch (err) {
      throw new RunnerError('OUTPUT_UNWRITABLE', `cannot write ${shown(path)}: ${(err as Error).message}`, { cause: err, details: { path } });
    }
  }
  process.stdout.write(summary(name, style as Style, dir, files, existing.length));
  return 0;
}

const NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]*$/;

/**
 * Words NAME may not be: JavaScript's reserved words (NAME becomes an export's
 * name), and the names the generated module and test declare or import in a
 * scope where NAME is used. (Globals, such as Map, are refused too.)
 */
const TAKEN = new Set([
  ...'break case catch class const continue debugger default delete do else enum export extends false finally for function if implements import in instanceof interface let new null package private protected public return static super switch this throw true try typeof var void while with yield await arguments eval undefined NaN Infinity'.split(' '),
  ...'defineStrategy BaseStrategy RollingWindow z MINUTE mean describe it expect runStrategy T0 ticks signals prices params BUY run both'.split(' '),
]);

/** A strategy type name the generated code can use as is: its `type`, its export's name and, in kebab case, its file names. */
export function checkName(name: string): void {
  if (!NAME_PATTERN.test(name)) throw new UsageError(`NAME must start with a letter and contain only letters, digits and _ (got ${JSON.stringify(name)})`);
  if (TAKEN.has(name) || name in globalThis) throw new UsageError(`NAME ${JSON.stringify(name)} is a reserved word, a global or a name the generated code uses; choose another, e.g. ${JSON.stringify(`My${name[0]!.toUpperCase()}${name.slice(1)}`)}`);
  if (BUILTIN_STRATEGIES.some((d) => d.type === name)) throw new UsageError(`NAME ${JSON.stringify(name)} is a built-in strategy type; choose another`);
}

/** MaCross → ma-cross, RSIReversal → rsi-reversal, my_strategy2 → my-strategy2. */
export function kebabCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .replace(/_+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '')
    .toLowerCase();
}

/** The files for strategy type `name`, in the order they are written and listed. `root`: strategy-runner's package root (for the README's paths). */
export function scaffoldFiles(name: string, style: Style, root: string): ScaffoldFile[] {
  const kebab = kebabCase(name);
  return [
    { name: `${kebab}.mjs`, content: strategyModule(name, kebab, style), what: `the strategy type ${name} (${style === 'define' ? 'defineStrategy' : 'BaseStrategy class'})` },
    { name: `${kebab}.test.mjs`, content: strategyTest(name, kebab), what: 'its test: vitest, runStrategy from strategy-runner/testing' },
    { name: 'strategies.json', content: strategiesJson(name), what: `one configuration, ${name}_1 on NIFTY 50 and NIFTY BANK (--strategies)` },
    { name: 'runner.json', content: `{ "strategyModules": [${JSON.stringify(`./${kebab}.mjs`)}] }\n`, what: 'a service configuration naming the module (--config)' },
    { name: 'README.md', content: readme(name, kebab, root), what: 'how to replay, backtest and test it' },
  ];
}

/** The instruments of the generated configuration: two of samples/ticks.jsonl, so that a replay of the sample gives signals. */
const NIFTY_50 = 256265;
const NIFTY_BANK = 260105;

const DESCRIPTION = 'Moving-average crossover of 1-minute closes: BUY on the cross up; SELL the position on the cross down or after max_hold minutes';

function strategyModule(name: string, kebab: string, style: Style): string {
  const head = `// ${kebab}.mjs: the strategy type ${name}, for strategy-runner (made by \`strategy-runner new\`).
// Plain JavaScript (ES module): strategy threads never load TypeScript.
// Its test: ${kebab}.test.mjs. How to replay, backtest and test it: README.md.
`;
  const params = `z
    .object({
      fast: z.number().int().min(1).default(5).describe('1-minute closes in the fast moving average'),
      slow: z.number().int().min(2).default(20).describe('1-minute closes in the slow moving average (more than fast)'),
      quantity: z.number().positive().default(1).describe('quantity of each BUY'),
      max_hold: z.number().int().min(0).default(60).describe('minutes a position may be held before it is sold (0: no limit)'),
    })
    .refine((p) => p.fast < p.slow, { message: 'fast must be less than slow', path: ['fast'] })`;
  const helpers = `
/** The mean of a window's values from index \`from\` (0: the oldest) to the newest. */
function mean(window, from) {
  let sum = 0;
  for (let i = from; i < window.size; i++) sum += window.at(i);
  return sum / (window.size - from);
}
`;
  if (style === 'define') {
    return `${head}import { defineStrategy, RollingWindow, z } from 'strategy-runner/sdk';

const MINUTE = 60_000;

export const ${name} = defineStrategy({
  type: '${name}',
  description:
    '${DESCRIPTION}',
  // Checked with the configuration's parameters before any thread starts; an unknown key is refused.
  params: ${params},
  // onBar gets each instrument's 1-minute bars (aligned to the clock: 09:15:00-09:16:00, ...)
  // when the ticks' time has passed their end.
  bars: [{ every: '1m' }],
  create(params, ctx) {
    const closes = new Map(); // instrument_token → RollingWindow of its last \`slow\` 1-minute closes
    const trend = new Map(); // instrument_token → 'up' | 'down': the fast average's side at the last bar
    const openedAt = new Map(); // instrument_token → event time the open position was first filled
    return {
      onStart() {
        // A timer per instrument at every whole minute of event time (the ticks' timestamps, never
        // the wall clock), naming the instrument its signals are priced on.
        if (params.max_hold > 0) {
          for (const instrument of ctx.instruments) ctx.schedule({ every: '1m', name: \`max-hold \${instrument}\`, instrument });
        }
      },

      onTick() {
        // Everything happens on bars and timers; a tick-by-tick strategy decides here.
      },

      onBar(bar, tctx) {
        const token = bar.instrument_token;
        let window = closes.get(token);
        if (!window) closes.set(token, (window = new RollingWindow(params.slow)));
        window.push(bar.close);
        if (!window.full) return;
        const slow = mean(window, 0);
        const fast = mean(window, params.slow - params.fast);
        if (fast === slow) return; // on neither side: the last side holds
        const side = fast > slow ? 'up' : 'down';
        const was = trend.get(token);
        trend.set(token, side);
        if (was === undefined || was === side) return; // not a cross
        // The strategy's own portfolio, as of this bar: positions change only with fills.
        const position = tctx.portfolio.positions.get(token)?.quantity ?? 0;
        const why = \`fast \${fast.toFixed(2)} \${side === 'up' ? 'above' : 'below'} slow \${slow.toFixed(2)}\`;
        if (side === 'up' && position <= 0) return { side: 'BUY', quantity: params.quantity, reason: \`cross up: \${why}\` };
        if (side === 'down' && position > 0) {
          openedAt.delete(token);
          return { side: 'SELL', quantity: position, reason: \`cross down: \${why}\` };
        }
      },

      onTimer(timer, tctx) {
        const token = timer.instrument;
        const position = tctx.portfolio.positions.get(token)?.quantity ?? 0;
        if (position <= 0) return;
        // No time: its SELL is on its way, or this instance did not see the fill that opened it.
        const since = openedAt.get(token);
        if (since === undefined || timer.at - since < params.max_hold * MINUTE) return;
        openedAt.delete(token);
        return { side: 'SELL', quantity: position, reason: \`max_hold \${params.max_hold} min reached\` };
      },

      onFill(fill, tctx) {
        // tctx.portfolio already includes this fill.
        const position = tctx.portfolio.positions.get(fill.instrument_token)?.quantity ?? 0;
        if (position <= 0) openedAt.delete(fill.instrument_token);
        else if (!openedAt.has(fill.instrument_token)) openedAt.set(fill.instrument_token, fill.timestamp);
        ctx.logger.info({ fill_id: fill.fill_id, side: fill.side, quantity: fill.quantity, price: fill.price, position }, 'filled');
      },
    };
  },
});
${helpers}`;
  }
  return `${head}import { BaseStrategy, RollingWindow, z } from 'strategy-runner/sdk';

const MINUTE = 60_000;

export class ${name} extends BaseStrategy {
  static type = '${name}';
  static description =
    '${DESCRIPTION}';
  // Checked with the configuration's parameters before any thread starts; an unknown key is refused.
  static params = ${params};
  // onBar gets each instrument's 1-minute bars (aligned to the clock: 09:15:00-09:16:00, ...)
  // when the ticks' time has passed their end.
  static bars = [{ every: '1m' }];

  closes = new Map(); // instrument_token → RollingWindow of its last \`slow\` 1-minute closes
  trend = new Map(); // instrument_token → 'up' | 'down': the fast average's side at the last bar
  openedAt = new Map(); // instrument_token → event time the open position was first filled

  onStart(ctx) {
    // A timer per instrument at every whole minute of event time (the ticks' timestamps, never
    // the wall clock), naming the instrument its signals are priced on.
    if (this.params.max_hold > 0) {
      for (const instrument of ctx.instruments) ctx.schedule({ every: '1m', name: \`max-hold \${instrument}\`, instrument });
    }
  }

  onTick() {
    // Everything happens on bars and timers; a tick-by-tick strategy decides here.
  }

  onBar(bar, ctx) {
    const { fast: nFast, slow: nSlow, quantity } = this.params;
    const token = bar.instrument_token;
    let window = this.closes.get(token);
    if (!window) this.closes.set(token, (window = new RollingWindow(nSlow)));
    window.push(bar.close);
    if (!window.full) return;
    const slow = mean(window, 0);
    const fast = mean(window, nSlow - nFast);
    if (fast === slow) return; // on neither side: the last side holds
    const side = fast > slow ? 'up' : 'down';
    const was = this.trend.get(token);
    this.trend.set(token, side);
    if (was === undefined || was === side) return; // not a cross
    // The strategy's own portfolio, as of this bar: positions change only with fills.
    const position = ctx.portfolio.positions.get(token)?.quantity ?? 0;
    const why = \`fast \${fast.toFixed(2)} \${side === 'up' ? 'above' : 'below'} slow \${slow.toFixed(2)}\`;
    if (side === 'up' && position <= 0) return this.buy(quantity, \`cross up: \${why}\`);
    if (side === 'down' && position > 0) {
      this.openedAt.delete(token);
      return this.sell(position, \`cross down: \${why}\`);
    }
  }

  onTimer(timer, ctx) {
    const token = timer.instrument;
    const position = ctx.portfolio.positions.get(token)?.quantity ?? 0;
    if (position <= 0) return;
    // No time: its SELL is on its way, or this instance did not see the fill that opened it.
    const since = this.openedAt.get(token);
    if (since === undefined || timer.at - since < this.params.max_hold * MINUTE) return;
    this.openedAt.delete(token);
    return this.sell(position, \`max_hold \${this.params.max_hold} min reached\`);
  }

  onFill(fill, ctx) {
    // ctx.portfolio already includes this fill.
    const position = ctx.portfolio.positions.get(fill.instrument_token)?.quantity ?? 0;
    if (position <= 0) this.openedAt.delete(fill.instrument_token);
    else if (!this.openedAt.has(fill.instrument_token)) this.openedAt.set(fill.instrument_token, fill.timestamp);
    this.context.logger.info({ fill_id: fill.fill_id, side: fill.side, quantity: fill.quantity, price: fill.price, position }, 'filled');
  }
}
${helpers}`;
}

function strategyTest(name: string, kebab: string): string {
  return `// ${kebab}.test.mjs: ${name} on hand-made ticks, run by strategy-runner's own engine without
// threads (runStrategy: the same clock, bars, timers and simulated fills as replay and backtest).
// Run it with \`npx vitest run\` in this directory (README.md).
import { describe, expect, it } from 'vitest';
import { runStrategy } from 'strategy-runner/testing';
import { ${name} } from './${kebab}.mjs';

const MINUTE = 60_000;
/** 2024-11-21 09:15 IST: a whole minute, where a 1-minute bar starts. */
const T0 = Date.UTC(2024, 10, 21, 3, 45);

/**
 * One tick of NIFTY 50 (${NIFTY_50}) a second after each whole minute: the bar of minute i holds
 * tick i alone (its close is prices[i]) and closes when tick i + 1 arrives. Its signals are
 * priced at that close and stamped with the bar's end, T0 + (i + 1) min.
 */
function ticks(prices) {
  return prices.map((last_price, i) => ({ instrument_token: ${NIFTY_50}, last_price, timestamp: T0 + i * MINUTE + 1000, volume: 10 }));
}

/** [side, quantity, price, minutes after T0, origin, reason] */
function signals(run) {
  return run.signals.map((s) => [s.side, s.quantity, s.price, (s.tick_timestamp - T0) / MINUTE, s.origin, s.reason]);
}

describe('${name}', () => {
  // fast 2, slow 3: the means of the last 2 and 3 closes, once 3 bars have closed
  //   bar 2 (12 11 10): fast 10.5 < slow 11   down
  //   bar 3 (11 10 9):  fast 9.5  < slow 10   down
  //   bar 4 (10 9 11):  fast 10   = slow 10   on neither side: still down
  //   bar 5 (9 11 13):  fast 12   > slow 11   up, a cross: BUY 5 at 13, at T0 + 6 min
  //   bar 6 (11 13 14): fast 13.5 > slow 12.67 up
  //   bar 7 (13 14 12): fast 13   = slow 13   still up
  //   bar 8 (14 12 10): fast 11   < slow 12   down, a cross: SELL the position, if there is one
  //   bar 9 (12 10 9):  fast 9.5  < slow 10.33 down
  const prices = [12, 11, 10, 9, 11, 13, 14, 12, 10, 9, 9];
  const params = { fast: 2, slow: 3, quantity: 5 };
  const BUY = ['BUY', 5, 13, 6, 'bar 1m', 'cross up: fast 12.00 above slow 11.00'];

  it('BUYs on a cross up; with no fills it holds nothing, so it does not SELL on the cross down', async () => {
    const run = await runStrategy(${name}, { params, ticks: ticks(prices) });
    expect(run.errors).toEqual([]);
    expect(signals(run)).toEqual([BUY]);
  });

  it('SELLs its position on the cross down once its BUY has filled (simulated fills, as in a backtest)', async () => {
    const run = await runStrategy(${name}, { params, ticks: ticks(prices), fillModel: 'next-tick' });
    expect(run.errors).toEqual([]);
    expect(signals(run)).toEqual([BUY, ['SELL', 5, 10, 9, 'bar 1m', 'cross down: fast 11.00 below slow 12.00']]);
    // next-tick: an order fills at the price of the next tick, the one after the bar (14, then 9)
    expect(run.fills.map((f) => [f.side, f.quantity, f.price])).toEqual([
      ['BUY', 5, 14],
      ['SELL', 5, 9],
    ]);
    expect(run.portfolio.positions.get(${NIFTY_50})?.quantity).toBe(0);
    expect(run.portfolio.realizedPnl).toBe(-25); // 5 × (9 − 14)
  });

  it('SELLs a position held max_hold minutes at the next whole minute (its timer)', async () => {
    // The same cross up, then the trend holds. The BUY fills at 14 at T0 + 6 min 1 s; the timers at
    // T0 + 7 and 8 min find it held less than 2 min, the one at T0 + 9 min (after bar 8) sells at the
    // last price, 16; that SELL fills at 17.
    const run = await runStrategy(${name}, {
      params: { ...params, max_hold: 2 },
      ticks: ticks([12, 11, 10, 9, 11, 13, 14, 15, 16, 17, 18]),
      fillModel: 'next-tick',
    });
    expect(run.errors).toEqual([]);
    expect(signals(run)).toEqual([BUY, ['SELL', 5, 16, 9, 'timer max-hold ${NIFTY_50}', 'max_hold 2 min reached']]);
    expect(run.portfolio.realizedPnl).toBe(15); // 5 × (17 − 14)
  });

  it('keeps each instrument apart', async () => {
    // NIFTY BANK (${NIFTY_BANK}) ticks at the same times, falling: no cross of its own, and no effect on NIFTY 50's
    const both = ticks(prices).flatMap((t, i) => [t, { ...t, instrument_token: ${NIFTY_BANK}, last_price: 50_000 - i }]);
    const run = await runStrategy(${name}, { params, ticks: both });
    expect(run.errors).toEqual([]);
    expect(signals(run)).toEqual([BUY]);
  });

  it('refuses parameters with fast not less than slow', async () => {
    await expect(runStrategy(${name}, { params: { fast: 3, slow: 3 }, ticks: ticks(prices) })).rejects.toThrow(/fast must be less than slow/);
  });
});
`;
}

function strategiesJson(name: string): string {
  const j = JSON.stringify;
  return `[
  {
    "id": ${j(`${name}_1`)},
    "strategy_type": ${j(name)},
    "instruments": [${NIFTY_50}, ${NIFTY_BANK}],
    "parameters": { "fast": 2, "slow": 4, "quantity": 1, "max_hold": 30 },
    "is_active": true,
    "brokers": ["paper"]
  }
]
`;
}

function readme(name: string, kebab: string, root: string): string {
  const ticks = sh(join(root, 'samples', 'ticks.jsonl'));
  return `# ${name}

A strategy type for strategy-runner (${root}), made by \`strategy-runner new ${name}\`:

- \`${kebab}.mjs\`: the strategy, plain JavaScript (strategy threads never load TypeScript). A
  moving-average crossover on 1-minute bars: BUY when the fast average of the closes crosses above
  the slow one; SELL the position when it crosses below, or when it has been held \`max_hold\`
  minutes (a timer at every whole minute). It decides by its own portfolio, which only fills change.
- \`${kebab}.test.mjs\`: its test, hand-made ticks through \`runStrategy\` (\`strategy-runner/testing\`).
- \`strategies.json\`: one configuration of it, \`${name}_1\` on NIFTY 50 and NIFTY BANK (\`--strategies\`),
  with short averages (fast 2, slow 4) so that the runner's 11-minute sample has crosses.
- \`runner.json\`: a service configuration naming the module (\`--config\`; paths are relative to it).

\`strategy-runner\` is the runner's CLI, \`node ${sh(join(root, 'dist/src/cli/main.js'))}\`: \`npm link\` in the
runner's checkout puts it on your PATH; after the install under Test, \`npx strategy-runner\` runs
it here. Run these in this directory.

## Replay

\`\`\`sh
strategy-runner replay --ticks ${ticks} --strategies strategies.json --config runner.json
\`\`\`

Signals are printed as JSON lines. A replay has no fills unless you give \`--fills FILE.jsonl\`:
the portfolio stays empty, so ${name} BUYs on crosses up and never SELLs.

## Backtest

\`\`\`sh
strategy-runner backtest --ticks ${ticks} --strategies strategies.json --config runner.json --out report/
\`\`\`

The backtest feeds a simulated fill of each signal back to the strategy, so positions open and
close. \`report/\` gets report.json (P&L, drawdown, round trips, exposure), the fills, the signals
and an equity chart; the table is printed.

## Test

\`\`\`sh
npm install --save-dev vitest ${sh(root)}
npx vitest run
\`\`\`

The test imports \`strategy-runner/testing\` and the module imports \`strategy-runner/sdk\`: Node
finds them in \`node_modules/\`, where the first command links the runner. (The runner itself
resolves \`strategy-runner/sdk\` for the module without it, in replay, backtest and run.)

## Live

Add \`./${kebab}.mjs\` (its path from the service's configuration file) to the service
configuration's \`strategyModules\`, and insert the configuration of \`strategies.json\` into
\`strategy_configurations\`.
`;
}

/** The summary on stdout: what was written, and what to run next. */
function summary(name: string, style: Style, dir: string, files: readonly ScaffoldFile[], overwritten: number): string {
  const paths = files.map((f) => shown(join(dir, f.name)));
  const width = Math.max(...paths.map((p) => p.length));
  const lines = [`wrote ${name} (${style} style) in ${shown(dir)}${overwritten > 0 ? ` (${overwritten} overwritten)` : ''}:`];
  files.forEach((f, i) => lines.push(`  ${paths[i]!.padEnd(width)}  ${f.what}`));
  const ticks = sh(join(packageRoot(), 'samples', 'ticks.jsonl'));
  const strategies = sh(shown(join(dir, 'strategies.json')));
  const config = sh(shown(join(dir, 'runner.json')));
  lines.push(
    '',
    'Next:',
    `  strategy-runner replay --ticks ${ticks} --strategies ${strategies} --config ${config}`,
    `  strategy-runner backtest --ticks ${ticks} --strategies ${strategies} --config ${config} --out ${sh(shown(join(dir, 'report')))}/`,
    `  cd ${sh(shown(dir))} && npm install --save-dev vitest ${sh(packageRoot())} && npx vitest run`,
    '',
  );
  return lines.join('\n');
}

/** A path as the user would type it: relative to the working directory when inside it. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

/** Quoted for a POSIX shell when it needs to be. */
function sh(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
