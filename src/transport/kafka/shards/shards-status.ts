import type { ShardBook } from './shard-book.js';

/** One shard on /status (`shards.shards[]`). */
export interface ShardStatus {
  shard: number;
  /** acquiring, warming, catching-up, live, releasing */
  state: string;
  strategies: string[];
  /** ticks between the shard's position and the end of each partition, summed */
  lag: number;
  signals: number;
  /** signals its strategies produced after it was released or dropped: never published */
  dropped_signals: number;
  /** live events with its ticks not yet acknowledged */
  in_flight_events: number;
  acquired_at: string;
  partitions: { partition: number; feed: 'main' | 'catch-up'; next_offset: number; warm_until_offset: number; delivered_offset: number; committed_offset: number; lag: number }[];
}

/** `shards` on /status: this runner in its deployment. */
export interface ShardsStatus {
  instance: string;
  group: string;
  coordination_topic: string;
  count: number;
  held: number[];
  catch_up_readers: number;
  counters: Record<string, number>;
  shards: ShardStatus[];
}

export interface ShardsStatusInput {
  instance: string;
  group: string;
  topic: string;
  count: number;
  book: ShardBook;
  highs: ReadonlyMap<number, number>;
  catchUps: number;
  counters: Record<string, number>;
  strategiesOf: (shard: number) => string[];
}

/** The document, from the book (each shard's partitions, with the main reader's position where it feeds them). */
export function shardsStatus(i: ShardsStatusInput): ShardsStatus {
  const mainNext = (p: number): number | undefined => i.book.mainNext.get(p);
  const shards = [...i.book.all()]
    .sort((a, b) => a.id - b.id)
    .map((s): ShardStatus => {
      const partitions = [...s.parts.values()].map((p) => {
        const next = p.joined ? (mainNext(p.partition) ?? p.next) : p.next;
        const high = Math.max(i.highs.get(p.partition) ?? 0, mainNext(p.partition) ?? 0);
        return {
          partition: p.partition,
          feed: p.feed === 'main' ? ('main' as const) : ('catch-up' as const),
          next_offset: next,
          warm_until_offset: p.warmUntil,
          delivered_offset: p.delivered,
          committed_offset: p.committed,
          lag: Math.max(0, high - p.delivered),
        };
      });
      return {
        shard: s.id,
        state: s.phase(mainNext),
        strategies: i.strategiesOf(s.id),
        lag: partitions.reduce((a, p) => a + p.lag, 0),
        signals: s.signals,
        dropped_signals: s.droppedSignals,
        in_flight_events: s.pending,
        acquired_at: new Date(s.acquiredAt).toISOString(),
        partitions,
      };
    });
  return {
    instance: i.instance,
    group: i.group,
    coordination_topic: i.topic,
    count: i.count,
    held: shards.map((s) => s.shard),
    catch_up_readers: i.catchUps,
    counters: { ...i.counters },
    shards,
  };
}
