import type { KafkaJS } from '@confluentinc/kafka-javascript';
import { decodeTick, type Tick } from '../../domain/tick.js';
import { BatchIntake, TOMBSTONE } from './batch-intake.js';
import type { InputContext } from './input-context.js';
import { markDelivered } from './partition-position.js';

/**
 * The ticks consumer's `eachBatch`: one fetched batch becomes at most two
 * events (a warm-up one and a live one). Offsets below this process's
 * position are skipped (already dispatched), offsets below `warmUntil` go to
 * the strategies as warm-up (no signals), the rest is live and marks its
 * partition delivered once its signals are acknowledged. A bad record is
 * dead-lettered only when live: in the warm-up range it was dead-lettered the
 * first time.
 *
 * The hot path: per message one decode and, in the common case (a live batch
 * at or past the position), no offset to parse.
 */
export class TickHandler {
  readonly #ctx: InputContext;
  readonly #intake: BatchIntake;

  constructor(ctx: InputContext) {
    this.#ctx = ctx;
    this.#intake = new BatchIntake(ctx);
  }

  async onBatch(batch: KafkaJS.Batch): Promise<void> {
    const counters = this.#ctx.counters;
    try {
      const part = this.#intake.arrived(batch);
      const last = batch.messages.at(-1);
      if (last === undefined) return;
      const from = part.next;
      const next = Number(last.offset) + 1;
      if (from !== undefined && next <= from) {
        counters.redeliveredTicks += batch.messages.length;
        return;
      }
      const warmUntil = part.warmUntil;
      const warm: Tick[] = [];
      const ticks: Tick[] = [];
      const dead: Promise<void>[] = [];
      // The common case, a live batch at or past the position: no offset to compare per message.
      const allLive = Number(batch.messages[0]!.offset) >= Math.max(from ?? 0, warmUntil);
      for (const m of batch.messages) {
        const o = allLive ? Infinity : Number(m.offset);
        if (from !== undefined && o < from) {
          counters.redeliveredTicks++;
          continue;
        }
        const r = m.value === null ? TOMBSTONE : decodeTick(m.value.toString('utf8'));
        if (o < warmUntil) {
          if (r.ok) warm.push(r.tick);
        } else if (r.ok) ticks.push(r.tick);
        else dead.push(this.#intake.reject(batch.topic, batch.partition, m, r.reason, 'TICK_INVALID'));
      }
      part.next = next;
      counters.warmupTicks += warm.length;
      counters.ticks += ticks.length;
      const queue = this.#ctx.queue;
      if (warm.length > 0) await queue.push({ kind: 'ticks', ticks: warm, warmup: true });
      if (next <= warmUntil) return; // all warm-up: nothing to commit
      // Dead letters are acknowledged before the batch can be committed past them.
      await Promise.all(dead);
      await queue.push({ kind: 'ticks', ticks, onDelivered: () => markDelivered(part, next) });
    } catch (err) {
      this.#intake.failed(err, 'tick', batch);
    }
  }
}
