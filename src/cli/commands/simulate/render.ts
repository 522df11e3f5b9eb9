import { ProgressLine } from '../../progress.js';
import type { SimulateResult } from './model.js';

/** The line printed at the end of a run. */
export function summary(r: SimulateResult, rate: number, instruments: number, startedAt: number): string {
  const achieved = r.seconds > 0 ? r.acked / r.seconds : 0;
  return (
    `simulate: ${r.sent.toLocaleString('en-US')} sent, ${r.acked.toLocaleString('en-US')} acked` +
    (r.failed > 0 ? `, ${r.failed.toLocaleString('en-US')} failed` : '') +
    ` to ${r.topic} in ${r.seconds.toFixed(2)} s (${Math.round(achieved).toLocaleString('en-US')} ticks/s; asked ${rate.toLocaleString('en-US')}/s), ` +
    `${instruments} instruments, seed ${r.seed}, started ${new Date(startedAt).toISOString()}`
  );
}

/** The progress line's text: sent, acked, the acknowledged rate, the time. */
export function progressText(sent: number, acked: number, secs: number): string {
  const rate = secs > 0 ? Math.round(acked / secs) : 0;
  return `${sent.toLocaleString('en-US')} sent  ${acked.toLocaleString('en-US')} acked  ${rate.toLocaleString('en-US')} ticks/s  ${secs.toFixed(1)} s`;
}

/** A progress line every second on a terminal (stderr), timed from `startedAt` (performance.now()). */
export function startProgress(enabled: boolean, startedAt: number, read: () => { sent: number; acked: number }): ProgressLine {
  return new ProgressLine(
    enabled,
    (ms) => {
      const { sent, acked } = read();
      return progressText(sent, acked, ms / 1000);
    },
    { intervalMs: 1000, startedAt },
  );
}
