import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { kafkaBrokers, createTopics, produce, unique } from '../../helpers/infra.js';

const probe = fileURLToPath(new URL('../../../scripts/probe-client-threads.cjs', import.meta.url));

/**
 * What docs/kafka.md says of the client and worker threads, checked against
 * the installed build: the addon is not context-aware, so exactly one thread
 * of a process can load it (whichever loads it first), and that thread,
 * a worker thread too, consumes normally. Should a new release make the addon
 * context-aware, this fails, and the input may then run on several threads.
 */
describe('scripts/probe-client-threads.cjs', () => {
  it('one worker thread loads the client and consumes; the second is refused ("did not self-register")', async () => {
    const topic = unique('probe-threads');
    await createTopics([topic]);
    await produce(topic, Array.from({ length: 50 }, (_, i) => ({ value: { i } })));
    const { stdout } = await promisify(execFile)(process.execPath, [probe, kafkaBrokers().join(','), topic, '50'], { timeout: 60_000 });
    const summary = JSON.parse(stdout.trim().split('\n').pop()!) as { loaded: number; refused: number; errors: string[]; consumed: number[] };
    expect(summary.loaded).toBe(1);
    expect(summary.refused).toBe(1);
    expect(summary.errors[0]).toContain('did not self-register');
    expect(summary.consumed).toEqual([50]);
  }, 90_000);
});
