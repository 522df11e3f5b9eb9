import type { MessagePort } from 'node:worker_threads';
import { releaseProxy, wrap, type Remote } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { RunnerError } from '../errors.js';
import type { ThreadControl } from '../protocol/messages.js';

/**
 * The control calls to one thread (init, startStrategy, stopStrategy,
 * health, shutdown) over comlink on their own port. Every call settles: it
 * has a deadline (WORKER_UNRESPONSIVE), and rejects with the thread's
 * failure as soon as the thread ends (`fail()`).
 */
export class ThreadControlClient {
  readonly #thread: number;
  readonly #port: MessagePort;
  readonly #remote: Remote<ThreadControl>;
  #exitSignal!: (e: Error) => void;
  readonly #exited: Promise<never>;

  constructor(thread: number, port: MessagePort) {
    this.#thread = thread;
    this.#port = port;
    this.#remote = wrap<ThreadControl>(nodeEndpoint(port as never));
    this.#exited = new Promise<never>((_, reject) => (this.#exitSignal = reject));
    this.#exited.catch(() => {});
  }

  /** Call `fn` on the thread; rejects after `timeoutMs`, or when the thread ends. */
  async call<T>(name: string, fn: (c: ThreadControl) => Promise<T>, timeoutMs: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RunnerError('WORKER_UNRESPONSIVE', `thread ${this.#thread}: ${name}() got no answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      // A call abandoned by a race must not hold the process open.
      timer.unref();
    });
    try {
      // Every ThreadControl method is already async, so Remote<ThreadControl> has the same shape.
      return await Promise.race([fn(this.#remote as unknown as ThreadControl), this.#exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The thread ended: every call under way and to come rejects with `err`. */
  fail(err: Error): void {
    this.#exitSignal(err);
  }

  /** Release the proxy (once is enough; again is harmless). */
  release(): void {
    try {
      this.#remote[releaseProxy]();
    } catch {
      /* already released */
    }
  }

  close(): void {
    this.#port.close();
  }
}
