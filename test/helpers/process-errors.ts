/**
 * Run fn with the process' `event` listeners (uncaughtException or
 * unhandledRejection) replaced by a collector; returns what reached them.
 * vitest's own listeners are put back afterwards.
 */
export async function collectProcessErrors(
  event: 'uncaughtException' | 'unhandledRejection',
  fn: () => Promise<void>,
  settleMs = 50,
): Promise<unknown[]> {
  const caught: unknown[] = [];
  const saved = process.listeners(event as 'uncaughtException');
  process.removeAllListeners(event);
  const collect = (err: unknown): void => {
    caught.push(err);
  };
  process.on(event as 'uncaughtException', collect);
  try {
    await fn();
    await new Promise((r) => setTimeout(r, settleMs));
  } finally {
    process.off(event as 'uncaughtException', collect);
    for (const l of saved) process.on(event as 'uncaughtException', l);
  }
  return caught;
}
