import type { Fill } from '../domain/fill.js';
import type { InputEvent, TickSource } from '../ports.js';

/**
 * Replay's merge of ticks and fills by time: a fill stamped T takes effect
 * after every tick stamped T or earlier and before the first tick stamped
 * later (ties go to the ticks: a fill at T executed against the market of T).
 * The backtest delivers its simulated fills by the same rule, inside the
 * strategy threads, so `replay --fills` of a backtest's fills.jsonl sees them
 * exactly where the backtest did. Fills later than the last tick are applied
 * at the end. `fills` must be sorted by timestamp.
 */
export async function* interleaveByTime(ticks: TickSource, fills: readonly Fill[]): AsyncGenerator<InputEvent> {
  let f = 0;
  for await (const batch of ticks.batches()) {
    if (f >= fills.length) {
      yield batch;
      continue;
    }
    let start = 0;
    const t = batch.ticks;
    for (let i = 0; i < t.length; i++) {
      if (f < fills.length && fills[f]!.timestamp < t[i]!.timestamp) {
        if (i > start) yield { kind: 'ticks', ticks: t.slice(start, i) };
        start = i;
        while (f < fills.length && fills[f]!.timestamp < t[i]!.timestamp) yield { kind: 'fill', fill: fills[f++]! };
      }
    }
    yield start === 0 ? batch : { kind: 'ticks', ticks: t.slice(start), ...(batch.onDelivered ? { onDelivered: batch.onDelivered } : {}) };
  }
  while (f < fills.length) yield { kind: 'fill', fill: fills[f++]! };
}

/** Ticks only. */
export async function* ticksOnly(ticks: TickSource): AsyncGenerator<InputEvent> {
  yield* ticks.batches();
}
