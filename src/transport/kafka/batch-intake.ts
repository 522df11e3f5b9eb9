import type { KafkaJS } from '@confluentinc/kafka-javascript';
import { RunnerError } from '../../errors.js';
import type { InputContext } from './input-context.js';
import type { DeadLetter } from './kafka-signal-sink.js';
import type { PartitionPosition } from './partition-position.js';

/** A message with no value (a tombstone): not a record, dead-lettered like a bad one. */
export const TOMBSTONE = { ok: false as const, reason: 'empty value (tombstone)' };

/**
 * What the tick and the fill handler both do with a fetched batch: note it
 * on its partition's position, and send a bad record to the dead-letter
 * topic.
 */
export class BatchIntake {
  readonly #ctx: InputContext;

  constructor(ctx: InputContext) {
    this.#ctx = ctx;
  }

  /** The batch's partition position, with the fetch time, the broker's answer and the high watermark noted. */
  arrived(batch: KafkaJS.Batch): PartitionPosition {
    const part = this.#ctx.positions.get(batch.topic, batch.partition);
    part.lastBatchAt = Date.now();
    this.#ctx.broker.answered(part.lastBatchAt);
    part.high = Math.max(part.high, Number(batch.highWatermark));
    return part;
  }

  /** Count, log and dead-letter one bad record; rejects when the dead letter is not acknowledged. */
  async reject(topic: string, partition: number, m: KafkaJS.KafkaMessage, reason: string, code: DeadLetter['code']): Promise<void> {
    const { counters, log } = this.#ctx;
    if (code === 'TICK_INVALID') counters.badTicks++;
    else counters.badFills++;
    log.warn({ topic, partition, offset: m.offset, code, reason }, 'bad record sent to the dead-letter topic');
    try {
      await this.#ctx.deadLetter({ topic, partition, offset: m.offset, key: m.key, value: m.value, reason, code });
    } catch (err) {
      // Not acknowledged: fail the input so the offset is never committed past this record.
      throw new RunnerError('KAFKA_UNAVAILABLE', `dead-letter produce failed for ${topic}[${partition}]@${m.offset}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Never let an error escape a handler: the client would seek back and redeliver the batch forever. The input fails instead. */
  failed(err: unknown, what: string, batch: KafkaJS.Batch): void {
    this.#ctx.log.error({ err, topic: batch.topic, partition: batch.partition }, `${what} batch handling failed; stopping input`);
    this.#ctx.queue.fail(err);
  }
}
