/**
 * Runs a job, never two at once: a request while one runs is remembered (the
 * more important of several, as `prefer` decides) and runs once right after.
 * Used by the configuration listener and the file watcher, so that a burst of
 * change notices gives one reload in progress and at most one more.
 */
export class CoalescingRunner<R> {
  readonly #job: (reason: R) => Promise<void>;
  readonly #prefer: (pending: R, next: R) => R;
  #running: Promise<void> | undefined;
  #pending: R | undefined;
  #stopped = false;

  constructor(job: (reason: R) => Promise<void>, prefer: (pending: R, next: R) => R = (_, next) => next) {
    this.#job = job;
    this.#prefer = prefer;
  }

  get busy(): boolean {
    return this.#running !== undefined;
  }

  request(reason: R): void {
    if (this.#stopped) return;
    if (this.#running !== undefined) {
      this.#pending = this.#pending === undefined ? reason : this.#prefer(this.#pending, reason);
      return;
    }
    this.#running = this.#drain(reason);
  }

  /** No more runs; resolves when the one in progress (if any) has finished. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#pending = undefined;
    await this.#running;
  }

  async #drain(first: R): Promise<void> {
    let reason: R | undefined = first;
    try {
      while (reason !== undefined && !this.#stopped) {
        this.#pending = undefined;
        await this.#job(reason);
        reason = this.#pending;
      }
    } finally {
      this.#pending = undefined;
      this.#running = undefined;
    }
  }
}
