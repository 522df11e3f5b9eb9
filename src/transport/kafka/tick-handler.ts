import { decodeTick, type Tick } from '../../domain/tick.js';
import { BatchIntake, TOMBSTONE } from './batch-intake.js';
import type { InputContext } from './input-context.js';
import type { NativeMessage } from './native-client.js';
import { markDelivered, type PartitionPosition } from './partition-position.js';

/** What the handler asks of the consumer, per partition, once per consume(). */
export interface TickPartitionView {
  /** false once the partition was revoked (its fetched messages are left to its next owner) */
  owns(topic: string, partition: number): boolean;
  /** the partition's high watermark as the client last saw it (-1 when unknown) */
  highWatermark(topic: string, partition: number): number;
}

/** One partition's part of a consume(): where its live ticks end (the offset to mark delivered). */
interface LiveRun {
  part: PartitionPosition;
  next: number;
}

/**
 * The ticks consumer's handler: the messages of one consume() (several
 * partitions, each in offset order) become at most two events, a warm-up one
 * and a live one. Per partition, offsets below this process's position are
 * skipped (already dispatched), offsets below `warmUntil` go to the
 * strategies as warm-up (no signals), the rest is live and marks its
 * partition delivered, up to its last live offset, once its signals (and all
 * earlier ones) are acknowledged. A bad record is dead-lettered only when
 * live: in the warm-up range it was dead-lettered the first time; the live
 * event waits for its acknowledgement, so no commit passes it.
 *
 * The hot path: per message one decode and two offset comparisons (the
 * low-level client gives offsets as numbers); per partition run (messages
 * come grouped by partition) one position lookup and one watermark read.
 */
export class TickHandler {
  readonly #ctx: InputContext;
  readonly #intake: BatchIntake;
  readonly #view: TickPartitionView;

  constructor(ctx: InputContext, view: TickPartitionView) {
    this.#ctx = ctx;
    this.#intake = new BatchIntake(ctx);
    this.#view = view;
  }

  async onMessages(messages: readonly NativeMessage[]): Promise<void> {
    const counters = this.#ctx.counters;
    const first = messages[0];
    if (first === undefined) return;
    try {
      const now = Date.now();
      const warm: Tick[] = [];
      const ticks: Tick[] = [];
      const live: LiveRun[] = [];
      let dead: Promise<void>[] | undefined;
      let redelivered = 0;
      let dropped = 0;
      // The current partition run.
      let topic = '';
      let partition = -1;
      let part: PartitionPosition | undefined;
      let owned = false;
      let next: number | undefined;
      let warmUntil = 0;
      let run: LiveRun | undefined;
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i]!;
        if (m.partition !== partition || m.topic !== topic) {
          if (part !== undefined) part.next = next;
          topic = m.topic;
          partition = m.partition;
          owned = this.#view.owns(topic, partition);
          part = owned ? this.#intake.arrived(topic, partition, this.#view.highWatermark(topic, partition), now) : undefined;
          next = part?.next;
          warmUntil = part?.warmUntil ?? 0;
          run = undefined;
        }
        if (!owned) {
          dropped++;
          continue;
        }
        const o = m.offset;
        if (next !== undefined && o < next) {
          redelivered++;
          continue;
        }
        next = o + 1;
        const value = m.value;
        const r = value === null || value === undefined ? TOMBSTONE : decodeTick(value.toString('utf8'));
        if (o < warmUntil) {
          if (r.ok) warm.push(r.tick);
          continue;
        }
        if (r.ok) ticks.push(r.tick);
        else (dead ??= []).push(this.#intake.reject(topic, partition, m, r.reason, 'TICK_INVALID'));
        if (run === undefined) live.push((run = { part: part!, next }));
        else run.next = next;
      }
      if (part !== undefined) part.next = next;
      counters.redeliveredTicks += redelivered;
      counters.revokedTicks += dropped;
      counters.warmupTicks += warm.length;
      counters.ticks += ticks.length;
      const queue = this.#ctx.queue;
      if (warm.length > 0) await queue.push({ kind: 'ticks', ticks: warm, warmup: true });
      if (live.length === 0) return; // all warm-up (or skipped): nothing to commit
      // Dead letters are acknowledged before the batch can be committed past them.
      if (dead !== undefined) await Promise.all(dead);
      await queue.push({ kind: 'ticks', ticks, onDelivered: () => markAll(live) });
    } catch (err) {
      this.#intake.failed(err, 'tick', { topic: first.topic });
    }
  }
}

function markAll(live: readonly LiveRun[]): void {
  for (const r of live) markDelivered(r.part, r.next);
}
