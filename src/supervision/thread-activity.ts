import { ACTIVE_BATCH, ACTIVE_SLOT, ACTIVE_TICK, ACTIVITY_INTS } from '../protocol/messages.js';

/**
 * The supervisor's side of a thread's activity words (shared memory the
 * thread writes as it works, see messages.ts): what it is on right now,
 * readable while the thread itself is hung.
 */
export class ThreadActivity {
  readonly words = new Int32Array(new SharedArrayBuffer(4 * ACTIVITY_INTS));

  /** The slot whose onTick is running right now, or undefined. */
  slot(): number | undefined {
    const v = Atomics.load(this.words, ACTIVE_SLOT);
    return v === 0 ? undefined : v - 1;
  }

  /** The batch the thread is on (or last finished), and the tick index within it. */
  position(): { batch: number; tick: number } {
    return { batch: Atomics.load(this.words, ACTIVE_BATCH), tick: Atomics.load(this.words, ACTIVE_TICK) };
  }

  /** Has the thread finished every batch up to `lastSent`? */
  finishedUpTo(lastSent: number): boolean {
    const current = Atomics.load(this.words, ACTIVE_BATCH);
    // Between batches (no onTick running) the thread is done with `current` too.
    const done = Atomics.load(this.words, ACTIVE_SLOT) === 0 ? current : current - 1;
    return done >= lastSent;
  }
}
