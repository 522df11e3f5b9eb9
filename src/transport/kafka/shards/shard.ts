import { Lifecycle, type TransitionTable } from '../../../lifecycle/lifecycle.js';
import type { ShardPosition } from './shard-position.js';

/**
 * A shard as this runner holds it:
 * acquiring (reading its position, starting its strategies) → active
 * (catching up, then live) → releasing (no new ticks; waiting for its
 * signals to be acknowledged, committing its position) → released; or
 * dropped at once from any of them when the group says the assignment was
 * lost (another runner may own it already: nothing more is emitted for it).
 */
export type ShardState = 'acquiring' | 'active' | 'releasing' | 'released' | 'dropped';

const SHARD_TRANSITIONS: TransitionTable<ShardState> = {
  acquiring: ['active', 'releasing', 'dropped'],
  active: ['releasing', 'dropped'],
  releasing: ['released', 'dropped'],
  released: [],
  dropped: [],
};

/** What /status shows for a shard: its state, refined while active by where its partitions are. */
export type ShardPhase = 'acquiring' | 'warming' | 'catching-up' | 'live' | 'releasing' | 'released' | 'dropped';

/** Which reader gives a shard the ticks of one partition: the runner's main reader, or the catch-up reader of its acquisition. */
export type Feed = 'main' | object;

/** One shard's place in one partition of market.ticks. */
export interface ShardPartition {
  readonly partition: number;
  /** who gives it ticks of this partition now */
  feed: Feed;
  /**
   * main-fed and past its thresholds: it gets every tick the main reader
   * reads from here on (`next` is then not kept up to date: the main
   * reader's own position is the shard's)
   */
  joined: boolean;
  /** the next offset to give the shard (ticks below were given, or are skipped) */
  next: number;
  /** offsets below this are warm-up for the shard (its signals were emitted by an earlier owner) */
  warmUntil: number;
  /** the position read at acquisition (the committed one) */
  readonly start: number;
  /** the next offset whose ticks (and all before) have their signals acknowledged: what may be committed */
  delivered: number;
  /** what was last handed to a commit */
  committed: number;
}

/**
 * One shard held by this runner: its partitions' positions, its lifecycle,
 * and what it emitted. Built by the acquisition from the position stored in
 * the coordination group.
 */
export class Shard {
  readonly id: number;
  readonly life: Lifecycle<ShardState>;
  readonly parts = new Map<number, ShardPartition>();
  /** live events carrying this shard's ticks that the pipeline has not yet acknowledged */
  pending = 0;
  signals = 0;
  /** signals produced for it after it was dropped or released (never published) */
  droppedSignals = 0;
  readonly acquiredAt = Date.now();
  liveAt: number | undefined;
  /** resolves when `pending` reaches 0 (a release waits on it) */
  #drained: (() => void)[] = [];

  constructor(id: number) {
    this.id = id;
    this.life = new Lifecycle<ShardState>(`shard ${id}`, 'acquiring', SHARD_TRANSITIONS);
  }

  get state(): ShardState {
    return this.life.state;
  }

  /** Its strategies get ticks and their signals go out (not once releasing: a release takes nothing new). */
  get takesTicks(): boolean {
    const s = this.life.state;
    return s === 'active';
  }

  /** Its signals may still be published (a release delivers what is in flight). */
  get emits(): boolean {
    const s = this.life.state;
    return s === 'active' || s === 'releasing' || s === 'acquiring';
  }

  /** Add a partition at its stored position: warm-up from `warmStart` up to `position`, live from there. */
  addPartition(partition: number, position: number, warmStart: number, feed: Feed): ShardPartition {
    const part: ShardPartition = { partition, feed, joined: false, next: warmStart, warmUntil: position, start: position, delivered: position, committed: position };
    this.parts.set(partition, part);
    return part;
  }

  /** Where it is for /status: acquiring, warming (some partition still below its warm-up end), catching up, live. */
  phase(mainNext: (partition: number) => number | undefined): ShardPhase {
    const s = this.life.state;
    if (s !== 'active') return s;
    let catching = false;
    for (const part of this.parts.values()) {
      const next = part.joined ? (mainNext(part.partition) ?? part.next) : part.next;
      if (next < part.warmUntil) return 'warming';
      if (!part.joined) catching = true;
    }
    return catching ? 'catching-up' : 'live';
  }

  /** The next offset per partition whose signals are acknowledged: what is committed. */
  position(): ShardPosition {
    return new Map([...this.parts.values()].map((p) => [p.partition, p.delivered]));
  }

  /** Whether something was acknowledged since the last commit. */
  changed(): boolean {
    for (const p of this.parts.values()) if (p.delivered !== p.committed) return true;
    return false;
  }

  /** The position was handed to a commit. */
  markCommitted(position: ShardPosition): void {
    for (const [partition, o] of position) {
      const p = this.parts.get(partition);
      if (p !== undefined) p.committed = o;
    }
  }

  /** A commit was refused: the next one takes the position again. */
  uncommit(): void {
    for (const p of this.parts.values()) p.committed = -1;
  }

  /** One live event with its ticks is in flight. */
  sent(): void {
    this.pending++;
  }

  /** That event was acknowledged, up to `next` in `partition` (each mark once per event). */
  delivered(partition: number, next: number): void {
    const p = this.parts.get(partition);
    if (p !== undefined && next > p.delivered) p.delivered = next;
  }

  /** One in-flight event is done (acknowledged, or given up). */
  settled(): void {
    if (this.pending > 0) this.pending--;
    if (this.pending === 0) for (const f of this.#drained.splice(0)) f();
  }

  /** Resolves once no live event of the shard is in flight. */
  drained(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }
}
