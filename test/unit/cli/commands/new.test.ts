import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { checkName, kebabCase, NEW_USAGE, newCommand, scaffoldFiles } from '../../../../src/cli/commands/new.js';
import { UsageError } from '../../../../src/cli/usage-error.js';
import { packageRoot } from '../../../../src/app/package-root.js';
import { parseServiceConfig } from '../../../../src/config/service-config.js';
import { parseStrategyConfigs } from '../../../../src/config/strategy-config.js';
import { useTempDir } from '../../../helpers/temp-dir.js';

const tmp = useTempDir('sr-new-unit-');
let n = 0;
/** A fresh directory path (not created) inside the test file's temporary directory. */
const fresh = (): string => join(tmp.dir(), `d${++n}`);

/** Run the command with stdout captured; `cwd` stands in for the working directory. */
async function run(argv: string[], cwd = tmp.dir()): Promise<{ code: number; out: string }> {
  const chunks: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => (chunks.push(String(c)), true));
  const wd = vi.spyOn(process, 'cwd').mockReturnValue(cwd);
  try {
    return { code: await newCommand(argv), out: chunks.join('') };
  } finally {
    write.mockRestore();
    wd.mockRestore();
  }
}

const FILES = ['README.md', 'ma-cross.mjs', 'ma-cross.test.mjs', 'runner.json', 'strategies.json'];

describe('strategy-runner new: NAME', () => {
  it('takes an identifier: a letter, then letters, digits and _', () => {
    for (const ok of ['MaCross', 'a', 'X1_y', 'RSI2', 'my_strategy']) expect(() => checkName(ok), ok).not.toThrow();
    for (const bad of ['9x', 'ma-cross', 'Ma Cross', '', '_x', 'café', 'x$']) {
      expect(() => checkName(bad), bad).toThrow(UsageError);
    }
    expect(() => checkName('9x')).toThrow('NAME must start with a letter and contain only letters, digits and _ (got "9x")');
  });

  it('refuses reserved words, globals, the names the generated code uses and the built-in types', () => {
    expect(() => checkName('class')).toThrow('NAME "class" is a reserved word, a global or a name the generated code uses; choose another, e.g. "MyClass"');
    // a global (the module's `new Map()` would get the strategy), or a name of the module or its test
    for (const taken of ['Map', 'Date', 'RollingWindow', 'runStrategy', 'run', 'BUY']) expect(() => checkName(taken), taken).toThrow(/a name the generated code uses/);
    expect(() => checkName('SimpleMomentumStrategy')).toThrow('NAME "SimpleMomentumStrategy" is a built-in strategy type; choose another');
  });

  it('becomes the files’ names in kebab case', () => {
    expect(kebabCase('MaCross')).toBe('ma-cross');
    expect(kebabCase('Breakout')).toBe('breakout');
    expect(kebabCase('RSIReversal')).toBe('rsi-reversal');
    expect(kebabCase('EMA')).toBe('ema');
    expect(kebabCase('my_strategy2')).toBe('my-strategy2');
    expect(kebabCase('Ema20Cross')).toBe('ema20-cross');
    expect(kebabCase('A__B')).toBe('a-b');
  });
});

describe('strategy-runner new: the files', () => {
  it('writes the module, its test, strategies.json, runner.json and a README into --dir, and prints them and the next commands', async () => {
    const dir = fresh();
    const { code, out } = await run(['MaCross', '--dir', dir]);
    expect(code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(FILES);
    const rel = dir.slice(tmp.dir().length + 1); // printed relative to the working directory
    expect(out).toContain(`wrote MaCross (define style) in ${rel}:`);
    for (const f of FILES) expect(out).toContain(`${rel}/${f}`);
    const ticks = join(packageRoot(), 'samples/ticks.jsonl');
    expect(out).toContain(`strategy-runner replay --ticks ${ticks} --strategies ${rel}/strategies.json --config ${rel}/runner.json`);
    expect(out).toContain(`strategy-runner backtest --ticks ${ticks} --strategies ${rel}/strategies.json --config ${rel}/runner.json --out ${rel}/report/`);
    expect(out).toContain(`cd ${rel} && npm install --save-dev vitest ${packageRoot()} && npx vitest run`);
    // what was written is what scaffoldFiles gives
    for (const f of scaffoldFiles('MaCross', 'define', packageRoot())) expect(readFileSync(join(dir, f.name), 'utf8')).toBe(f.content);
  });

  it('writes a module in the chosen style, importing the SDK by package name', async () => {
    const define = fresh();
    const klass = fresh();
    await run(['MaCross', '--dir', define]);
    await run(['MaCross', '--dir', klass, '--style', 'class']);
    const d = readFileSync(join(define, 'ma-cross.mjs'), 'utf8');
    const c = readFileSync(join(klass, 'ma-cross.mjs'), 'utf8');
    expect(d).toContain("import { defineStrategy, RollingWindow, z } from 'strategy-runner/sdk';");
    expect(d).toContain('export const MaCross = defineStrategy({');
    expect(c).toContain("import { BaseStrategy, RollingWindow, z } from 'strategy-runner/sdk';");
    expect(c).toContain('export class MaCross extends BaseStrategy {');
    for (const m of [d, c]) {
      expect(m).toMatch(/bars(:| =) \[\{ every: '1m' \}\]/);
      expect(m).toContain('ctx.schedule({ every: ');
      expect(m).toContain('portfolio.positions.get(token)');
    }
    // the same test for both: it imports the named export
    expect(readFileSync(join(klass, 'ma-cross.test.mjs'), 'utf8')).toBe(readFileSync(join(define, 'ma-cross.test.mjs'), 'utf8'));
    expect(readFileSync(join(define, 'ma-cross.test.mjs'), 'utf8')).toContain("import { runStrategy } from 'strategy-runner/testing';\nimport { MaCross } from './ma-cross.mjs';");
  });

  it('writes JavaScript that parses, whatever the NAME and style', async () => {
    for (const name of ['MaCross', 'x', 'my_strategy2', 'Eval2']) {
      for (const style of ['define', 'class']) {
        const dir = fresh();
        await run([name, '--dir', dir, '--style', style]);
        const kebab = kebabCase(name);
        for (const f of [`${kebab}.mjs`, `${kebab}.test.mjs`]) {
          expect(() => execFileSync(process.execPath, ['--check', join(dir, f)], { stdio: 'pipe' }), `${name} ${style} ${f}`).not.toThrow();
        }
        expect(readFileSync(join(dir, `${kebab}.mjs`), 'utf8')).toMatch(new RegExp(`^export (const|class) ${name}\\b`, 'm'));
      }
    }
  });

  it('writes configurations the runner accepts: one strategy of the new type, and a service configuration naming the module', async () => {
    const dir = fresh();
    await run(['MaCross', '--dir', dir]);
    const parsed = parseStrategyConfigs(JSON.parse(readFileSync(join(dir, 'strategies.json'), 'utf8')) as unknown[], 'strategies.json');
    expect(parsed.errors).toEqual([]);
    expect(parsed.configs).toMatchObject([{ id: 'MaCross_1', strategy_type: 'MaCross', instruments: [256265, 260105], is_active: true, brokers: ['paper'] }]);
    const service = parseServiceConfig(JSON.parse(readFileSync(join(dir, 'runner.json'), 'utf8')), 'runner.json', dir);
    expect(service.strategyModules).toEqual(['./ma-cross.mjs']);
  });

  it('writes into ./NAME-in-kebab-case of the working directory by default', async () => {
    const cwd = fresh();
    const { code, out } = await run(['RSIReversal'], cwd);
    expect(code).toBe(0);
    expect(readdirSync(join(cwd, 'rsi-reversal')).sort()).toEqual(['README.md', 'rsi-reversal.mjs', 'rsi-reversal.test.mjs', 'runner.json', 'strategies.json']);
    expect(out).toContain('wrote RSIReversal (define style) in rsi-reversal:');
    expect(readFileSync(join(cwd, 'rsi-reversal', 'runner.json'), 'utf8')).toBe('{ "strategyModules": ["./rsi-reversal.mjs"] }\n');
  });

  it('refuses to overwrite existing files without --force, naming them, and writes nothing', async () => {
    const dir = fresh();
    const rel = dir.slice(tmp.dir().length + 1);
    mkdirSync(dir);
    writeFileSync(join(dir, 'ma-cross.mjs'), '// mine\n');
    writeFileSync(join(dir, 'strategies.json'), '[]\n');
    await expect(run(['MaCross', '--dir', dir])).rejects.toThrow(new UsageError(`${rel}/ma-cross.mjs, ${rel}/strategies.json already exist; pass --force to overwrite`));
    expect(readdirSync(dir).sort()).toEqual(['ma-cross.mjs', 'strategies.json']);
    expect(readFileSync(join(dir, 'ma-cross.mjs'), 'utf8')).toBe('// mine\n');
    expect(readFileSync(join(dir, 'strategies.json'), 'utf8')).toBe('[]\n');

    rmSync(join(dir, 'ma-cross.mjs'));
    await expect(run(['MaCross', '--dir', dir])).rejects.toThrow(new UsageError(`${rel}/strategies.json already exists; pass --force to overwrite`));
    expect(readdirSync(dir)).toEqual(['strategies.json']);
  });

  it('overwrites with --force', async () => {
    const dir = fresh();
    await run(['MaCross', '--dir', dir]);
    writeFileSync(join(dir, 'ma-cross.mjs'), '// mine\n');
    const { code, out } = await run(['MaCross', '--dir', dir, '--force']);
    expect(code).toBe(0);
    expect(out).toContain('(5 overwritten)');
    expect(readFileSync(join(dir, 'ma-cross.mjs'), 'utf8')).toContain('export const MaCross = defineStrategy({');
  });

  it('a file where the directory should be is an OUTPUT_UNWRITABLE error naming it', async () => {
    const file = join(tmp.dir(), 'a-file');
    writeFileSync(file, '');
    await expect(run(['MaCross', '--dir', join(file, 'sub')])).rejects.toMatchObject({ code: 'OUTPUT_UNWRITABLE', message: expect.stringContaining('cannot create directory a-file/sub') });
  });
});

describe('strategy-runner new: arguments', () => {
  it('needs exactly one NAME and a known --style; unknown flags are parse errors', async () => {
    await expect(run([])).rejects.toThrow(new UsageError('new needs a NAME, e.g. strategy-runner new MaCross'));
    await expect(run(['A', 'B'])).rejects.toThrow(new UsageError('new takes one NAME, got 2: A B'));
    await expect(run(['MaCross', '--style', 'functional'])).rejects.toThrow(new UsageError("--style must be one of define, class, got 'functional'"));
    await expect(run(['9x', '--dir', fresh()])).rejects.toBeInstanceOf(UsageError);
    await expect(run(['MaCross', '--bogus'])).rejects.toMatchObject({ code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' });
    expect(existsSync(join(tmp.dir(), 'ma-cross'))).toBe(false);
  });

  it('prints its usage with --help', async () => {
    expect(await run(['--help'])).toEqual({ code: 0, out: NEW_USAGE });
  });
});
