import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ConsumeLoop } from '../../../../src/transport/kafka/consume-loop.js';
import { ERR, type NativeConsumer, type NativeMessage } from '../../../../src/transport/kafka/native-client.js';
import { sleep } from '../../../../src/timing/sleep.js';

const log = pino({ level: 'silent' });
const msg = (offset: number): NativeMessage => ({ topic: 't', partition: 0, offset, value: Buffer.from('x'), size: 1 }) as NativeMessage;

/**
 * A consumer whose consume(n) answers from a script: each call takes the next
 * answer (messages, an error, or nothing); with the script used up it answers
 * nothing. Records the n asked for and the timeout set.
 */
function scripted(answers: (NativeMessage[] | Error)[]) {
  const asked: number[] = [];
  let timeout: number | undefined;
  const consumer = {
    setDefaultConsumeTimeout: (ms: number) => (timeout = ms),
    consume: (n: number, cb: (err: unknown, m: NativeMessage[]) => void) => {
      asked.push(n);
      const a = answers.shift() ?? [];
      setImmediate(() => (a instanceof Error ? cb(a, []) : cb(null, a)));
    },
  } as unknown as NativeConsumer;
  return { consumer, asked, timeout: () => timeout, answers };
}

describe('ConsumeLoop: consume(n) without a wait in the client, the handler between calls', () => {
  it('hands each non-empty answer to the handler in order, awaiting it before the next consume()', async () => {
    const { consumer, asked, timeout } = scripted([[msg(0), msg(1)], [], [msg(2)]]);
    const seen: number[][] = [];
    let inHandler = 0;
    let overlap = false;
    const loop = new ConsumeLoop({
      consumer: () => consumer,
      maxMessages: 64,
      logger: log,
      idlePollMs: 5,
      onFatal: (err) => {
        throw err;
      },
      handle: async (ms) => {
        if (inHandler++ > 0) overlap = true;
        await sleep(5);
        seen.push(ms.map((m) => m.offset));
        inHandler--;
      },
    });
    loop.start();
    expect(loop.state).toBe('running');
    for (let i = 0; i < 100 && seen.length < 2; i++) await sleep(5);
    await loop.stop();
    expect(loop.state).toBe('stopped');
    expect(seen).toEqual([[0, 1], [2]]);
    expect(overlap).toBe(false);
    expect(timeout()).toBe(0);
    expect(asked.every((n) => n === 64)).toBe(true);
    expect(loop.stats).toMatchObject({ messages: 3, errors: 0 });
    expect(loop.stats.emptyPolls).toBeGreaterThanOrEqual(1);
  });

  it('with nothing queued it waits for wake() (the queue-non-empty callback), not for the idle poll', async () => {
    const { consumer, asked, answers } = scripted([]);
    const seen: number[] = [];
    const loop = new ConsumeLoop({ consumer: () => consumer, maxMessages: 8, logger: log, idlePollMs: 60_000, onFatal: () => {}, handle: (ms) => void seen.push(...ms.map((m) => m.offset)) });
    loop.start();
    await sleep(20);
    const polls = asked.length;
    expect(polls).toBe(1);
    answers.push([msg(7)]);
    loop.wake();
    for (let i = 0; i < 100 && seen.length === 0; i++) await sleep(2);
    expect(seen).toEqual([7]);
    expect(loop.stats.wakeups).toBe(1);
    await loop.stop();
  });

  it('a consume() error is counted and retried after a pause; a fatal one ends the loop through onFatal', async () => {
    const transient = Object.assign(new Error('broker transport failure'), { code: -195 });
    const fatal = Object.assign(new Error('fatal'), { code: ERR.FATAL });
    const { consumer } = scripted([transient, [msg(1)], fatal, [msg(2)]]);
    const seen: number[] = [];
    let failed: unknown;
    const loop = new ConsumeLoop({ consumer: () => consumer, maxMessages: 8, logger: log, idlePollMs: 5, onFatal: (e) => (failed = e), handle: (ms) => void seen.push(...ms.map((m) => m.offset)) });
    loop.start();
    for (let i = 0; i < 200 && failed === undefined; i++) await sleep(5);
    expect(failed).toBe(fatal);
    expect(seen).toEqual([1]);
    expect(loop.stats.errors).toBe(2);
    await loop.stop();
    expect(loop.state).toBe('stopped');
  });

  it('a session timeout the broker refuses ends the loop with a configuration error (it would fail the same way forever)', async () => {
    const refused = Object.assign(new Error('Broker: Invalid session timeout'), { code: ERR.INVALID_SESSION_TIMEOUT });
    const { consumer } = scripted([refused, [msg(1)]]);
    let failed: unknown;
    const loop = new ConsumeLoop({ consumer: () => consumer, maxMessages: 8, logger: log, idlePollMs: 5, onFatal: (e) => (failed = e), handle: () => undefined });
    loop.start();
    for (let i = 0; i < 200 && failed === undefined; i++) await sleep(5);
    expect(failed).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('kafka.shards.sessionTimeoutMs') });
    await loop.stop();
  });

  it('a handler that throws fails the loop (onFatal) rather than losing its messages silently', async () => {
    const { consumer } = scripted([[msg(1)], [msg(2)]]);
    let failed: unknown;
    const loop = new ConsumeLoop({
      consumer: () => consumer,
      maxMessages: 8,
      logger: log,
      onFatal: (e) => (failed = e),
      handle: () => {
        throw new Error('bug');
      },
    });
    loop.start();
    for (let i = 0; i < 100 && failed === undefined; i++) await sleep(2);
    expect((failed as Error).message).toBe('bug');
    await loop.stop();
  });

  it('stop() before start() (a stop during start-up) ends in stopped at once, and start() then does nothing; stop() is idempotent', async () => {
    const { consumer, asked } = scripted([]);
    const loop = new ConsumeLoop({ consumer: () => consumer, maxMessages: 8, logger: log, onFatal: () => {}, handle: () => {} });
    await loop.stop();
    await loop.stop();
    expect(loop.state).toBe('stopped');
    loop.start();
    await sleep(10);
    expect(loop.state).toBe('stopped');
    expect(asked).toEqual([]);
  });
});
