import type { Logger } from 'pino';
import { Lifecycle, type TransitionTable } from '../../lifecycle/lifecycle.js';
import { Backoff } from '../../timing/backoff.js';
import { sleep } from '../../timing/sleep.js';
import { RunnerError } from '../../errors.js';
import { errorCode } from './client.js';
import { ERR, type NativeConsumer, type NativeMessage } from './native-client.js';

/** created → running → stopping → stopped; stop() before start() goes straight to stopped (and start() then does nothing). */
export type ConsumeLoopState = 'created' | 'running' | 'stopping' | 'stopped';

const LOOP_TRANSITIONS: TransitionTable<ConsumeLoopState> = {
  created: ['running', 'stopped'],
  running: ['stopping'],
  stopping: ['stopped'],
  stopped: [],
};

/** What a loop has done (on /status as `consumer.fetch`). */
export interface ConsumeLoopStats {
  /** consume() calls */
  polls: number;
  /** consume() calls that returned nothing */
  emptyPolls: number;
  messages: number;
  /** times the consumer's queue turned non-empty while the loop waited (its wake-up callback) */
  wakeups: number;
  /** consume() calls that failed (logged; the loop goes on after a pause) */
  errors: number;
}

export interface ConsumeLoopOptions {
  /** set before start(): the connected consumer */
  consumer: () => NativeConsumer;
  /** most messages one consume() hands over */
  maxMessages: number;
  /**
   * One consume()'s messages (never empty). The loop waits for it before the
   * next consume(): a handler that waits for room downstream is the
   * backpressure. It must not throw (a throw fails the loop: `onFatal`).
   */
  handle: (messages: NativeMessage[]) => Promise<void> | void;
  /** the loop cannot go on (a fatal client error, a throwing handler); it has stopped */
  onFatal: (err: unknown) => void;
  logger: Logger;
  /**
   * The longest the loop sleeps with nothing to read when no wake-up comes
   * (the wake-up callback is what normally ends the wait; this bounds it)
   */
  idlePollMs?: number;
}

/**
 * The low-level consume loop: `consume(maxMessages)` with no wait inside the
 * client (timeout 0: it hands over what librdkafka has queued, and no libuv
 * thread is held while nothing arrives), the handler awaited between calls,
 * and, when nothing was queued, a wait for the consumer's queue-non-empty
 * callback (`wake()`), bounded by `idlePollMs`. The client serves its
 * rebalance, commit and error callbacks inside consume(), so the loop also
 * keeps those flowing. One consume() is in flight at a time.
 *
 * Why not the KafkaJS-compatible `eachBatch`: that layer caches about
 * `js.consumer.max.cache.size.per.worker.ms` of messages per worker and wraps
 * each message again; at full speed it kept hundreds of MB alive and put a
 * third of the main thread in GC (docs/kafka.md).
 */
export class ConsumeLoop {
  readonly #o: ConsumeLoopOptions;
  readonly #idlePollMs: number;
  readonly #lifecycle = new Lifecycle<ConsumeLoopState>('ConsumeLoop', 'created', LOOP_TRANSITIONS);
  readonly #stop = new AbortController();
  #woken = false;
  #wakeWaiter: (() => void) | undefined;
  #done: Promise<void> = Promise.resolve();
  readonly stats: ConsumeLoopStats = { polls: 0, emptyPolls: 0, messages: 0, wakeups: 0, errors: 0 };

  constructor(o: ConsumeLoopOptions) {
    this.#o = o;
    this.#idlePollMs = o.idlePollMs ?? 100;
  }

  get state(): ConsumeLoopState {
    return this.#lifecycle.state;
  }

  /** The consumer's queue turned non-empty (its callback): end the wait, or let the next wait end at once. */
  wake(): void {
    this.#woken = true;
    const w = this.#wakeWaiter;
    if (w === undefined) return;
    this.#wakeWaiter = undefined;
    this.stats.wakeups++;
    w();
  }

  /** Start the loop; after stop() (a stop during start-up) it stays stopped. */
  start(): void {
    if (this.#lifecycle.is('stopped')) return;
    this.#lifecycle.to('running');
    const consumer = this.#o.consumer();
    consumer.setDefaultConsumeTimeout(0);
    this.#done = this.#run(consumer);
  }

  /** Ends the loop after the consume() in flight (and its handler) returns. */
  async stop(): Promise<void> {
    if (this.#lifecycle.is('created')) {
      this.#lifecycle.to('stopped');
      return;
    }
    if (this.#lifecycle.is('running')) {
      this.#lifecycle.to('stopping');
      this.#stop.abort();
      this.wake();
    }
    await this.#done;
  }

  async #run(consumer: NativeConsumer): Promise<void> {
    const { maxMessages, handle, logger } = this.#o;
    const stopped = this.#stop.signal;
    const backoff = new Backoff({ initialMs: 100, maxMs: 2000 });
    try {
      while (!stopped.aborted) {
        this.#woken = false;
        let messages: NativeMessage[];
        try {
          messages = await consumeOnce(consumer, maxMessages);
        } catch (err) {
          if (stopped.aborted) break;
          this.stats.errors++;
          const code = errorCode(err);
          if (code === ERR.FATAL) throw err;
          // The broker refuses the group's session timeout: the same join fails forever, a configuration error.
          if (code === ERR.INVALID_SESSION_TIMEOUT) {
            throw new RunnerError(
              'CONFIG_INVALID',
              `the broker refuses the consumer group's session timeout (${(err as Error).message}): keep kafka.consumer.sessionTimeoutMs and kafka.shards.sessionTimeoutMs within the broker's group.min.session.timeout.ms and group.max.session.timeout.ms (6000 and 1800000 by default)`,
              { cause: err },
            );
          }
          const delay = backoff.next();
          logger.warn({ err: (err as Error).message, kafka_code: code, retry_in_ms: delay }, 'consume failed; retrying');
          await sleep(delay, stopped);
          continue;
        }
        backoff.reset();
        this.stats.polls++;
        if (messages.length > 0) {
          this.stats.messages += messages.length;
          await handle(messages);
          continue;
        }
        this.stats.emptyPolls++;
        // Woken while the consume() ran (a message queued after its last look): look again at once.
        if (this.#woken || stopped.aborted) continue;
        await this.#waitForWake();
      }
    } catch (err) {
      this.#o.onFatal(err);
    } finally {
      this.#lifecycle.tryTo('stopping');
      this.#lifecycle.to('stopped');
    }
  }

  #waitForWake(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#wakeWaiter = undefined;
        resolve();
      }, this.#idlePollMs);
      this.#wakeWaiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/** One consume(n) as a promise. */
function consumeOnce(consumer: NativeConsumer, n: number): Promise<NativeMessage[]> {
  return new Promise((resolve, reject) => consumer.consume(n, (err, messages) => (err ? reject(err) : resolve(messages))));
}
