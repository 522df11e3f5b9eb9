import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Signal } from '../../../../../src/domain/signal.js';
import { shardOf } from '../../../../../src/routing/shard-of.js';
import { KafkaConfigSchema } from '../../../../../src/transport/kafka/kafka-config.js';
import type { NativeConsumer } from '../../../../../src/transport/kafka/native-client.js';
import { Shard } from '../../../../../src/transport/kafka/shards/shard.js';
import { ShardBook } from '../../../../../src/transport/kafka/shards/shard-book.js';
import { ShardTransactions, type TxnProducer } from '../../../../../src/transport/kafka/transactions/shard-transactions.js';

/**
 * ShardTransactions' failure handling against a scripted producer: a fatal
 * (not fenced) producer error or a commit that times out cannot be provoked
 * from a real broker at will (the fence, a broker away and kill -9 are
 * tested for real in test/integration/app/exactly-once.test.ts).
 */

const COUNT = 4;
const idIn = (shard: number): string => {
  for (let i = 0; ; i++) if (shardOf(`s${i}`, COUNT) === shard) return `s${i}`;
};
const signal = (strategy: string, n: number): Signal => ({ signal_id: `${strategy}-${n}`, strategy_id: strategy, broker: 'paper', instrument_token: 1 }) as unknown as Signal;
const err = (code: number, flags: Record<string, boolean>): Error => Object.assign(new Error(`kafka error ${code}`), { code, ...flags });

/** A producer that logs every call and fails the calls it is told to, once each. */
class ScriptedProducer implements TxnProducer {
  static made: ScriptedProducer[] = [];
  readonly failures = new Map<string, Error[]>();
  constructor(readonly id: string, readonly log: string[]) {
    ScriptedProducer.made.push(this);
  }
  #step(name: string): Promise<void> {
    this.log.push(name);
    const e = this.failures.get(name)?.shift();
    return e === undefined ? Promise.resolve() : Promise.reject(e);
  }
  open(): Promise<void> {
    return this.#step('open');
  }
  begin(): Promise<void> {
    return this.#step('begin');
  }
  produce(_topic: string, value: Buffer | null): void {
    this.log.push(`produce ${JSON.parse(value!.toString()).signal_id}`);
  }
  sendOffsets(offsets: { offset: number; metadata: string }[]): Promise<void> {
    return this.#step(`sendOffsets ${offsets.map((o) => o.metadata).join(' ')}`);
  }
  commit(): Promise<void> {
    return this.#step('commit');
  }
  abort(): Promise<void> {
    return this.#step('abort');
  }
  close(): Promise<void> {
    this.log.push('close');
    return Promise.resolve();
  }
  fail(step: string, e: Error): void {
    this.failures.set(step, [...(this.failures.get(step) ?? []), e]);
  }
}

async function setup() {
  ScriptedProducer.made = [];
  const log: string[] = [];
  const config = KafkaConfigSchema.parse({ delivery: 'exactly-once', shards: { enabled: true, count: COUNT }, transactions: { commitIntervalMs: 10_000 } });
  const book = new ShardBook(COUNT);
  const fenced: number[] = [];
  const txns = new ShardTransactions({
    config,
    logger: pino({ level: 'silent' }),
    book,
    coordinationTopic: 'g.shards',
    consumer: () => ({}) as NativeConsumer,
    unsharded: async () => undefined,
    runner: 'r1',
    onFenced: (id) => fenced.push(id),
    producerFactory: (id) => new ScriptedProducer(id, log),
  });
  await txns.acquire([1], new AbortController().signal);
  const shard = new Shard(1);
  shard.addPartition(0, 10, 10, 'main');
  shard.life.to('active');
  book.add(shard);
  log.length = 0;
  return { txns, shard, log, fenced, producer: () => ScriptedProducer.made.at(-1)! };
}

describe('ShardTransactions', () => {
  it('a transaction carries the signals of settled rounds and the position they reach, nothing of a round not yet settled', async () => {
    const { txns, shard, log } = await setup();
    const s = idIn(1);
    await txns.write([signal(s, 1)], 0);
    await txns.write([signal(s, 2)], 1);
    shard.delivered(0, 12);
    txns.roundSettled(0);
    await txns.flush();
    expect(log).toEqual(['begin', `produce ${s}-1`, 'sendOffsets v1;0=12', 'commit']);
    expect(shard.parts.get(0)!.committed).toBe(12);
    expect(txns.status().shards[0]).toMatchObject({ shard: 1, transactional_id: 'strategy-runner.shard-1', committed: 1, waiting_signals: 1 });
  });

  it('a commit that timed out is committed again, never aborted', async () => {
    const { txns, shard, log, producer } = await setup();
    producer().fail('commit', err(-185, { isRetriable: true }));
    await txns.write([signal(idIn(1), 1)], 0);
    shard.delivered(0, 11);
    txns.roundSettled(0);
    await txns.flush();
    expect(log.filter((l) => l === 'commit' || l === 'abort')).toEqual(['commit', 'commit']);
    expect(txns.status().shards[0]).toMatchObject({ committed: 1, retries: 1, aborted: 0 });
  });

  it('an abortable error: aborted, and the same signals go into the next transaction', async () => {
    const { txns, shard, log, producer } = await setup();
    const s = idIn(1);
    producer().fail('sendOffsets v1;0=11', err(22, { isTxnRequiresAbort: true }));
    await txns.write([signal(s, 1), signal(s, 2)], 0);
    shard.delivered(0, 11);
    txns.roundSettled(0);
    await txns.flush();
    await txns.flush();
    expect(log).toEqual([
      'begin',
      `produce ${s}-1`,
      `produce ${s}-2`,
      'sendOffsets v1;0=11',
      'abort',
      'begin',
      `produce ${s}-1`,
      `produce ${s}-2`,
      'sendOffsets v1;0=11',
      'commit',
    ]);
    expect(txns.status()).toMatchObject({ committed: 1, aborted: 1, waiting_signals: 0 });
  });

  it('a fatal error that is not a fence: the producer is built again (its initTransactions ends the old transaction) and the signals go into its first transaction', async () => {
    const { txns, shard, log, producer } = await setup();
    const s = idIn(1);
    producer().fail('commit', err(-150, { isFatal: true }));
    await txns.write([signal(s, 1)], 0);
    shard.delivered(0, 11);
    txns.roundSettled(0);
    await txns.flush();
    expect(ScriptedProducer.made.length).toBe(2);
    await txns.flush();
    expect(log).toEqual(['begin', `produce ${s}-1`, 'sendOffsets v1;0=11', 'commit', 'close', 'open', 'begin', `produce ${s}-1`, 'sendOffsets v1;0=11', 'commit']);
    expect(txns.status()).toMatchObject({ committed: 1, rebuilds: 1 });
  });

  it('fenced: the shard is given up at once, its signals dropped, nothing more is produced for it', async () => {
    const { txns, shard, log, producer, fenced } = await setup();
    const s = idIn(1);
    producer().fail('sendOffsets v1;0=11', err(-144, { isFatal: true }));
    await txns.write([signal(s, 1)], 0);
    shard.delivered(0, 11);
    txns.roundSettled(0);
    await txns.flush();
    expect(fenced).toEqual([1]);
    await txns.write([signal(s, 2)], 1);
    txns.roundSettled(1);
    await txns.flush();
    expect(log).toEqual(['begin', `produce ${s}-1`, 'sendOffsets v1;0=11', 'close']);
    expect(txns.status()).toMatchObject({ fenced: 1, committed: 0, dropped_signals: 2, shards: [] });
  });

  it('a release commits the last transaction and closes the producer; a lost shard only closes it', async () => {
    const { txns, shard, log } = await setup();
    const s = idIn(1);
    await txns.write([signal(s, 1)], 0);
    shard.delivered(0, 11);
    txns.roundSettled(0);
    shard.life.to('releasing');
    await txns.release([1]);
    expect(log).toEqual(['begin', `produce ${s}-1`, 'sendOffsets v1;0=11', 'commit', 'close']);
    const lost = await setup();
    await lost.txns.write([signal(s, 1)], 0);
    lost.txns.drop([1], 'lost');
    await new Promise((r) => setTimeout(r, 10));
    expect(lost.log).toEqual(['close']);
    expect(lost.txns.status().dropped_signals).toBe(1);
  });
});
