import { describe, expect, it } from 'vitest';
import { Service } from '../../../src/app/service.js';
import { parseServiceConfig } from '../../../src/config/service-config.js';
import { FIXTURES, memoryLogger } from '../../helpers/runtime.js';

const service = (input: Parameters<typeof parseServiceConfig>[0]) => {
  const { logger, lines } = memoryLogger('info');
  return { service: new Service(parseServiceConfig(input, 'test', FIXTURES), logger), lines };
};

describe('Service lifecycle (no broker, no database)', () => {
  it('stopped before it started: exit 0, state stopped, nothing watched', async () => {
    const { service: s, lines } = service({ strategies: { source: 'file', file: 'none.json' } });
    expect(s.state).toBe('created');
    expect(await s.stop()).toBe(0);
    expect(await s.finished).toBe(0);
    expect(s.state).toBe('stopped');
    expect(s.configWatch).toBeNull();
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'strategy-runner stopped', exit_code: 0, timed_out: false }));
    await expect(s.start()).rejects.toMatchObject({ code: 'SUPERVISOR_STATE' });
  });

  it('PostgreSQL chosen without a URL: start fails with CONFIG_INVALID, state failed, exit 78', async () => {
    const { service: s } = service({ postgres: { url: null }, strategies: { source: 'postgres' } });
    await expect(s.start()).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    expect(s.state).toBe('failed');
    expect(await s.finished).toBe(78);
    expect(await s.lifecycle.reached('failed')).toBe('failed');
  });
});
