import { RunnerError } from '../../errors.js';
import type { InputContext } from './input-context.js';
import type { DeadLetter } from './kafka-signal-sink.js';
import type { PartitionPosition } from './partition-position.js';

/** A message with no value (a tombstone): not a record, dead-lettered like a bad one. */
export const TOMBSTONE = { ok: false as const, reason: 'empty value (tombstone)' };

/** What a bad record's dead letter needs of the message (a low-level or a KafkaJS-layer message). */
export interface RejectedRecord {
  offset: number | string;
  key?: Buffer | string | null | undefined;
  value: Buffer | null | undefined;
}

/**
 * What the tick and the fill handler both do with fetched messages: note
 * them on their partition's position, and send a bad record to the
 * dead-letter topic.
 */
export class BatchIntake {
  readonly #ctx: InputContext;

  constructor(ctx: InputContext) {
    this.#ctx = ctx;
  }

  /** The partition's position, with the fetch time, the broker's answer and the high watermark (when known) noted. */
  arrived(topic: string, partition: number, highWatermark: number, now = Date.now()): PartitionPosition {
    const part = this.#ctx.positions.get(topic, partition);
    part.lastBatchAt = now;
    this.#ctx.broker.answered(now);
    if (highWatermark > part.high) part.high = highWatermark;
    return part;
  }

  /** Count, log and dead-letter one bad record; rejects when the dead letter is not acknowledged. */
  async reject(topic: string, partition: number, m: RejectedRecord, reason: string, code: DeadLetter['code'], shard?: number): Promise<void> {
    const { counters, log } = this.#ctx;
    if (code === 'TICK_INVALID') counters.badTicks++;
    else counters.badFills++;
    const offset = String(m.offset);
    log.warn({ topic, partition, offset, code, reason }, 'bad record sent to the dead-letter topic');
    const key = m.key === undefined || m.key === null ? null : typeof m.key === 'string' ? Buffer.from(m.key) : m.key;
    try {
      const d: DeadLetter = { topic, partition, offset, key, value: m.value ?? null, reason, code };
      if (shard !== undefined) d.shard = shard;
      await this.#ctx.deadLetter(d);
    } catch (err) {
      // Not acknowledged: fail the input so the offset is never committed past this record.
      throw new RunnerError('KAFKA_UNAVAILABLE', `dead-letter produce failed for ${topic}[${partition}]@${offset}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Never let an error escape a handler (the KafkaJS layer would seek back and redeliver forever; the loop would stop): the input fails instead. */
  failed(err: unknown, what: string, where: { topic: string; partition?: number }): void {
    this.#ctx.log.error({ err, ...where }, `${what} batch handling failed; stopping input`);
    this.#ctx.queue.fail(err);
  }
}
