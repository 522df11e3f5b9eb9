/** No answer from the broker for this long: unreachable. */
export const BROKER_SILENCE_MS = 15_000;

/**
 * When the broker last answered (a fetched batch, an admin request, a
 * committed-offset read): the input's view of whether Kafka is reachable.
 */
export class BrokerContact {
  #lastAnswerAt = Date.now();

  /** Date.now() of the last answer (the creation time before any). */
  get lastAnswerAt(): number {
    return this.#lastAnswerAt;
  }

  answered(now = Date.now()): void {
    this.#lastAnswerAt = now;
  }

  /** False once the broker has not answered for BROKER_SILENCE_MS. */
  reachable(now = Date.now()): boolean {
    return now - this.#lastAnswerAt < BROKER_SILENCE_MS;
  }
}
