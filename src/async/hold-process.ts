/**
 * Keep the process alive until the returned release is called. The timing
 * primitives' timers (src/timing/sleep.ts) do not hold the process: a loop
 * that only waits on them (a --watch refresh, a retry, a paced send) holds
 * it with this for as long as it runs. Releasing twice is harmless.
 */
export function holdProcess(): () => void {
  const timer = setInterval(() => {}, 1 << 30);
  return () => clearInterval(timer);
}
