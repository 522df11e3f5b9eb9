import { spawn, type ChildProcess } from 'node:child_process';
import { onTestFinished } from 'vitest';

/**
 * Start `count` processes that each burn a core (an endless loop), as other
 * work on a shared machine does; they are killed when the test finishes.
 */
export function burnCpu(count: number): ChildProcess[] {
  const burners = Array.from({ length: count }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  onTestFinished(async () => {
    await Promise.all(
      burners.map(
        (b) =>
          new Promise<void>((resolve) => {
            if (b.exitCode !== null || b.signalCode !== null) return resolve();
            b.once('exit', () => resolve());
            b.kill('SIGKILL');
          }),
      ),
    );
  });
  return burners;
}
