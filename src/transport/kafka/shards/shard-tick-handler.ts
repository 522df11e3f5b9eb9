import { decodeTick, type Tick } from '../../../domain/tick.js';
import type { TickBatch } from '../../../ports.js';
import { BatchIntake, TOMBSTONE } from '../batch-intake.js';
import type { InputContext } from '../input-context.js';
import type { NativeMessage } from '../native-client.js';
import type { FedShard, ShardBook } from './shard-book.js';
import type { Feed, Shard } from './shard.js';

/** Per shard, the next offset per partition an event's ticks take it to. */
type Marks = Map<Shard, Map<number, number>>;

/** One event being built: ticks for a set of shards, warm-up or live; a live one carries the marks of its own ticks. */
interface Segment {
  warm: boolean;
  key: string;
  ids: number[];
  ticks: Tick[];
  marks: Marks | undefined;
}

function addMark(marks: Marks, shard: Shard, partition: number, next: number): void {
  let m = marks.get(shard);
  if (m === undefined) marks.set(shard, (m = new Map()));
  m.set(partition, next);
}

export interface ShardTickHandlerHooks {
  /** a catch-up reader's shard reached the main reader's position in a partition: the main reader feeds it from now on */
  handover?: (f: FedShard) => void;
}

/**
 * What a sharded runner's readers do with the messages of one consume()
 * (several partitions, each in offset order). The main reader reads every
 * partition once for all the shards it feeds; a catch-up reader reads the
 * range an acquired shard missed, up to the main reader's position, then
 * hands the shard over.
 *
 * Per message and per shard fed in its partition: below the shard's `next`
 * it is skipped (given already), below its `warmUntil` it is warm-up (the
 * strategies see it, no signal), else live. Messages go into events in
 * order, one event per run of messages with the same shard sets (in steady
 * state: every live shard, one event per consume), each with the filter of
 * its shards, so each shard's strategies see each of its ticks once, in
 * offset order per partition. Each live event carries the marks of its own
 * ticks: once its signals (and all earlier ones) are acknowledged, each of
 * its shards' delivered position moves past them in each partition. So a
 * position never passes a tick whose signals are not acknowledged, and an
 * acknowledged signal's tick is inside the position as soon as its event
 * settles (what lets a transaction carry exactly the signals of the
 * position it commits: transactions/shard-transactions.ts).
 *
 * A bad record is dead-lettered by one shard per partition (the book's
 * `deadLetterShard`), when that shard reads it live: once in the deployment.
 */
export class ShardTickHandler {
  readonly #ctx: InputContext;
  readonly #book: ShardBook;
  readonly #feed: Feed;
  readonly #hooks: ShardTickHandlerHooks;
  readonly #intake: BatchIntake;

  constructor(ctx: InputContext, book: ShardBook, feed: Feed, hooks: ShardTickHandlerHooks = {}) {
    this.#ctx = ctx;
    this.#book = book;
    this.#feed = feed;
    this.#hooks = hooks;
    this.#intake = new BatchIntake(ctx);
  }

  async onMessages(messages: readonly NativeMessage[]): Promise<void> {
    const first = messages[0];
    if (first === undefined) return;
    try {
      await this.#handle(messages);
    } catch (err) {
      this.#intake.failed(err, 'tick', { topic: first.topic });
    }
  }

  async #handle(messages: readonly NativeMessage[]): Promise<void> {
    const { counters, broker } = this.#ctx;
    const book = this.#book;
    const main = this.#feed === 'main';
    broker.answered();
    const segments: Segment[] = [];
    let warmSeg: Segment | undefined;
    let liveSeg: Segment | undefined;
    /** marks of offsets no live event holds (a partition run of bad records only): on the last live event */
    let tail: Marks | undefined;
    let dead: Promise<void>[] | undefined;
    let skipped = 0;
    let unowned = 0;
    let warmCount = 0;
    let liveCount = 0;

    const segment = (warm: boolean, ids: number[], key: string): Segment => {
      const cur = warm ? warmSeg : liveSeg;
      if (cur !== undefined && cur.key === key) return cur;
      const s: Segment = { warm, key, ids, ticks: [], marks: undefined };
      segments.push(s);
      // A new event of one kind closes the current one of the other: per shard, order holds.
      if (warm) {
        warmSeg = s;
        liveSeg = undefined;
      } else {
        liveSeg = s;
        warmSeg = undefined;
      }
      return s;
    };

    let i = 0;
    while (i < messages.length) {
      const topic = messages[i]!.topic;
      const partition = messages[i]!.partition;
      let end = i;
      while (end < messages.length && messages[end]!.partition === partition && messages[end]!.topic === topic) end++;
      const fed = book.fed(this.#feed, partition);
      const mainNext = book.mainNext.get(partition);
      const dlShard = book.deadLetterShard(partition);
      if (fed.length === 0) {
        unowned += end - i;
        if (main) book.mainNext.set(partition, messages[end - 1]!.offset + 1);
        i = end;
        continue;
      }
      const allJoined = fed.every((f) => f.part.joined);
      const fedIds = fed.map((f) => f.shard.id);
      const fedKey = fedIds.join(',');
      let handedOver = false;
      /** all joined: the live event this partition's last tick went into (it takes the run's marks) */
      let runSeg: Segment | undefined;
      for (let k = i; k < end; k++) {
        const m = messages[k]!;
        const o = m.offset;
        if (!main && mainNext !== undefined && o >= mainNext) {
          // The main reader has (or will have) everything from here: hand the shards over.
          for (const f of fed) this.#handover(f, mainNext);
          handedOver = true;
          break;
        }
        let warmIds: number[] | undefined;
        let liveIds: number[];
        let liveKey: string;
        let liveFed: FedShard[] | undefined;
        if (allJoined) {
          liveIds = fedIds;
          liveKey = fedKey;
        } else {
          liveIds = [];
          liveFed = [];
          for (const f of fed) {
            const part = f.part;
            if (!part.joined) {
              if (o < part.next) continue;
              part.next = o + 1;
            }
            if (o < part.warmUntil) (warmIds ??= []).push(f.shard.id);
            else {
              liveIds.push(f.shard.id);
              liveFed.push(f);
            }
          }
          liveKey = liveIds.join(',');
        }
        if (warmIds === undefined && liveIds.length === 0) {
          skipped++;
          continue;
        }
        const value = m.value;
        const r = value === null || value === undefined ? TOMBSTONE : decodeTick(value.toString('utf8'));
        if (r.ok && warmIds !== undefined) {
          segment(true, warmIds, warmIds.join(',')).ticks.push(r.tick);
          warmCount++;
        }
        let seg: Segment | undefined;
        if (liveIds.length > 0) {
          seg = segment(false, liveIds, liveKey);
          if (r.ok) {
            seg.ticks.push(r.tick);
            liveCount++;
            if (allJoined) runSeg = seg;
          }
          if (liveFed !== undefined) {
            seg.marks ??= new Map();
            for (const f of liveFed) addMark(seg.marks, f.shard, partition, o + 1);
          }
        }
        if (!r.ok && liveIds.includes(dlShard)) (dead ??= []).push(this.#intake.reject(topic, partition, m, r.reason, 'TICK_INVALID', dlShard));
      }
      const last = messages[end - 1]!.offset + 1;
      if (allJoined && !handedOver) {
        const into = runSeg === undefined ? (tail ??= new Map()) : (runSeg.marks ??= new Map());
        for (const f of fed) addMark(into, f.shard, partition, last);
      }
      if (main) {
        book.mainNext.set(partition, last);
        // A shard that was ahead of the main reader joins once the reader has passed its thresholds.
        for (const f of fed) if (!f.part.joined && f.part.next <= last && f.part.warmUntil <= last) f.part.joined = true;
      } else if (!handedOver && mainNext !== undefined) {
        for (const f of fed) if (f.part.next >= mainNext) this.#handover(f, mainNext);
      }
      i = end;
    }

    counters.redeliveredTicks += skipped;
    counters.unownedTicks += unowned;
    counters.warmupTicks += warmCount;
    counters.ticks += liveCount;
    const queue = this.#ctx.queue;
    // A catch-up reader's ticks are older than the live stream: kept out of the re-warm history.
    const catchUp = !main;
    if (tail !== undefined) {
      // Offsets with no live tick: their marks go with the last live event (or one of their own).
      let lastLive: Segment | undefined;
      for (const s of segments) if (!s.warm) lastLive = s;
      if (lastLive === undefined) {
        lastLive = { warm: false, key: '', ids: [], ticks: [], marks: undefined };
        segments.push(lastLive);
      }
      lastLive.marks ??= new Map();
      for (const [shard, m] of tail) for (const [p, next] of m) addMark(lastLive.marks, shard, p, next);
    }
    // Every shard with an event in flight counts it before any is pushed (a release waits for them).
    for (const s of segments) if (s.marks !== undefined) for (const shard of s.marks.keys()) shard.sent();
    let deadWaited = dead === undefined;
    for (const s of segments) {
      if (s.warm) {
        await queue.push({ kind: 'ticks', ticks: s.ticks, warmup: true, only: book.filterOf(s.ids), catchUp });
        continue;
      }
      const marks = s.marks;
      if (marks !== undefined && !deadWaited) {
        // Dead letters are accepted before a position can move past them.
        deadWaited = true;
        await Promise.all(dead!);
      }
      const ev: TickBatch = { kind: 'ticks', ticks: s.ticks, only: book.filterOf(s.ids), catchUp };
      await queue.push(
        marks === undefined
          ? ev
          : {
              ...ev,
              onDelivered: () => {
                for (const [shard, m] of marks) {
                  for (const [p, next] of m) shard.delivered(p, next);
                  shard.settled();
                }
              },
            },
      );
    }
    if (!deadWaited) await Promise.all(dead!);
  }

  #handover(f: FedShard, mainNext: number): void {
    const part = f.part;
    if (part.feed !== this.#feed) return;
    part.feed = 'main';
    if (part.next < mainNext) part.next = mainNext;
    part.joined = part.next === mainNext && part.warmUntil <= mainNext;
    this.#hooks.handover?.(f);
  }
}
