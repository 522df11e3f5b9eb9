import type { Tick } from '../domain/tick.js';
import type { BatchResultMessage } from '../protocol/messages.js';
import { batchLength, tickAt, type EncodedTickBatch } from '../protocol/tick-batch-codec.js';

interface PendingBatch {
  resolve: (r: BatchResultMessage) => void;
  reject: (e: Error) => void;
  /**
   * the batch as sent: its columns live outside the JS heap, so a batch in
   * flight keeps no tick objects alive (holding them made every tick in
   * flight survive a scavenge, and the main thread paid for it in GC)
   */
  enc: EncodedTickBatch;
}

/** The batches sent to one thread and not answered yet, by batch number (in sending order). */
export class PendingBatches {
  readonly #pending = new Map<number, PendingBatch>();

  get size(): number {
    return this.#pending.size;
  }

  /** A promise for the answer to batch `batch`. */
  add(batch: number, enc: EncodedTickBatch): Promise<BatchResultMessage> {
    return new Promise<BatchResultMessage>((resolve, reject) => {
      this.#pending.set(batch, { resolve, reject, enc });
    });
  }

  /** Tick `i` of a pending batch (what a thread was on when it failed); undefined when there is no such batch or tick. */
  tickOf(batch: number, i: number): Tick | undefined {
    const enc = this.#pending.get(batch)?.enc;
    if (enc === undefined || !(i >= 0 && i < batchLength(enc))) return undefined;
    return tickAt(enc, i);
  }

  /** The answer to a batch arrived (a batch nobody waits for any more is ignored). */
  resolve(m: BatchResultMessage): void {
    const p = this.#pending.get(m.batch);
    if (p === undefined) return;
    this.#pending.delete(m.batch);
    p.resolve(m);
  }

  rejectAll(err: Error): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(err);
  }

  /** Resolves when every batch sent so far has been answered (or rejected). */
  async drained(): Promise<void> {
    const last = [...this.#pending.keys()].pop();
    if (last === undefined) return;
    await new Promise<void>((resolve) => {
      const p = this.#pending.get(last)!;
      const { resolve: r0, reject: j0 } = p;
      p.resolve = (v) => (r0(v), resolve());
      p.reject = (e) => (j0(e), resolve());
    });
  }
}
