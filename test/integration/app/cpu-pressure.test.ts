import { describe, it } from 'vitest';
import { burnCpu } from '../../helpers/cpu-burn.js';
import { killMidStreamAndRestart, liveEqualsReplay } from '../../helpers/live-scenarios.js';

/**
 * Healthy strategies on a machine busy with other work (two processes burning
 * a core each, on top of the broker, the database and the runner's own
 * threads): a thread that falls behind for a moment must lose no tick, so
 * live output stays exactly replay's. Each scenario is repeated.
 */
describe('under CPU pressure from two competing processes', { timeout: 600_000 }, () => {
  it('loses no signal when killed with SIGKILL mid-stream and started again (3 times)', async () => {
    burnCpu(2);
    for (const seed of [5, 6, 7]) await killMidStreamAndRestart(seed);
  });

  it('publishes exactly what replay computes from the same ticks (3 times)', async () => {
    burnCpu(2);
    for (const seed of [11, 12, 13]) await liveEqualsReplay(seed);
  });
});
