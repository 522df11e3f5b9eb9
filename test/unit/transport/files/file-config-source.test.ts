import { describe, it, expect } from 'vitest';
import { useTempDir } from '../../../helpers/temp-dir.js';
import { join } from 'node:path';
import { FileConfigSource } from '../../../../src/transport/files/file-config-source.js';
import { RunnerError } from '../../../../src/errors.js';

const tmp = useTempDir('file-config-source-');
const file = tmp.file;

const momentum = { id: 'mom-1', strategy_type: 'SimpleMomentumStrategy', instruments: [256265], parameters: { lookback_period: 5 } };
const meanRev = { id: 'mr-1', strategy_type: 'MeanReversionStrategy', instruments: [260105, 256265], brokers: ['zerodha', 'paper'], is_active: false };

let shapeFiles = 0;

async function loadError(p: string): Promise<RunnerError> {
  try {
    await new FileConfigSource(p).load();
  } catch (err) {
    expect(err).toBeInstanceOf(RunnerError);
    return err as RunnerError;
  }
  throw new Error('expected load() to reject');
}

describe('FileConfigSource', () => {
  it('loads an array of configurations, applying the schema defaults', async () => {
    const p = file('array.json', JSON.stringify([momentum, meanRev]));
    const src = new FileConfigSource(p);
    expect(src.name).toBe(p);
    const { configs, errors } = await src.load();
    expect(errors).toEqual([]);
    expect(configs).toEqual([
      { ...momentum, is_active: true, brokers: ['paper'] },
      { ...meanRev, parameters: {} },
    ]);
  });

  it('loads the {"strategies": [...]} form the same way', async () => {
    const p = file('object.json', JSON.stringify({ strategies: [momentum, meanRev] }));
    const { configs, errors } = await new FileConfigSource(p).load();
    expect(errors).toEqual([]);
    expect(configs.map((c) => c.id)).toEqual(['mom-1', 'mr-1']);
  });

  it('an empty array is valid and gives nothing', async () => {
    expect(await new FileConfigSource(file('empty-array.json', '[]')).load()).toEqual({ configs: [], errors: [] });
  });

  it('invalid JSON is CONFIG_FILE_UNREADABLE, naming the file', async () => {
    const p = file('broken.json', '[{"id": "a",');
    const e = await loadError(p);
    expect(e.code).toBe('CONFIG_FILE_UNREADABLE');
    expect(e.message).toContain(p);
    expect(e.message).toContain('not valid JSON');
    expect(e.details).toEqual({ path: p });
  });

  it.each([
    ['an object without strategies', '{"configs": []}'],
    ['strategies that is not an array', '{"strategies": {"id": "x"}}'],
    ['a number', '42'],
    ['null', 'null'],
    ['a string', '"strategies"'],
  ])('a document that is %s is CONFIG_FILE_UNREADABLE', async (_what, text) => {
    const p = file(`shape-${++shapeFiles}.json`, text);
    const e = await loadError(p);
    expect(e.code).toBe('CONFIG_FILE_UNREADABLE');
    expect(e.message).toContain(p);
  });

  it('a missing file is CONFIG_FILE_UNREADABLE', async () => {
    const p = join(tmp.dir(), 'missing.json');
    const e = await loadError(p);
    expect(e.code).toBe('CONFIG_FILE_UNREADABLE');
    expect(e.message).toContain(p);
  });

  it('bad entries are reported, not thrown, and the others still load', async () => {
    const p = file(
      'mixed.json',
      JSON.stringify([
        momentum,
        { id: 'no-instruments', strategy_type: 'SimpleMomentumStrategy', instruments: [] },
        'not an object',
        { ...meanRev, is_active: true },
        { ...momentum, parameters: { lookback_period: 9 } }, // duplicate id
      ]),
    );
    const { configs, errors } = await new FileConfigSource(p).load();
    expect(configs.map((c) => c.id)).toEqual(['mom-1', 'mr-1']);
    expect(configs[0]!.parameters).toEqual({ lookback_period: 5 });
    expect(errors.map((e) => e.code)).toEqual(['STRATEGY_CONFIG_INVALID', 'STRATEGY_CONFIG_INVALID', 'STRATEGY_DUPLICATE_ID']);
    expect(errors[0]!.message).toContain("strategy 'no-instruments'");
    expect(errors[0]!.message).toContain('instruments');
    expect(errors[1]!.message).toContain(`${p} entry #2`);
    expect(errors[2]!.details).toMatchObject({ strategy_id: 'mom-1', index: 4, source: p });
  });

  it('close() resolves', async () => {
    await expect(new FileConfigSource(join(tmp.dir(), 'whatever.json')).close()).resolves.toBeUndefined();
  });
});
