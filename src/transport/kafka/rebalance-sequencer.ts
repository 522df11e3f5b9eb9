import type { Logger } from 'pino';
import type { AssignedPartition } from './consumer-options.js';
import { ERR, type NativeConsumer } from './native-client.js';
import { partitionKey, type PartitionId } from './partition-key.js';

/** What decides where assigned partitions start and hears of revoked ones (TicksRebalance, the fills reader's resume). */
export interface PartitionOwner {
  /** Partitions just assigned: where each starts (no offset: the group's committed one, else the reset policy). */
  assigned(parts: PartitionId[]): Promise<AssignedPartition[]> | AssignedPartition[];
  /**
   * Partitions revoked, or lost (the session expired: another member may
   * have them already). A promise is waited for before the partitions are
   * unassigned (a shard's release commits its position first): the group's
   * rebalance does not complete meanwhile.
   */
  revoked(parts: PartitionId[], lost: boolean): void | Promise<void>;
}

/**
 * A low-level consumer's rebalance callback (`rebalance_cb`), as the
 * application's side of the group protocol: the client calls it from
 * consume() and then waits until the application assigns or unassigns.
 *
 * Events are handled one after the other, in the order the client gave them
 * (an assignment that is still reading committed offsets is never overtaken
 * by the revocation after it), with the protocol the group uses: eager
 * (assign/unassign the whole set) or cooperative (incremental). A revocation
 * always ends in an unassign, whatever the owner does: the client's close
 * waits for it. Once `closing()` is called, revocations no longer wait behind
 * pending assignments and pending assignments are not applied.
 */
export class RebalanceSequencer {
  readonly #owner: PartitionOwner;
  readonly #log: Logger;
  #consumer: NativeConsumer | undefined;
  #chain: Promise<void> = Promise.resolve();
  #cooperative = false;
  #closing = false;
  /** the partitions assigned through here and not revoked since */
  readonly #owned = new Map<string, PartitionId>();

  constructor(owner: PartitionOwner, log: Logger) {
    this.#owner = owner;
    this.#log = log;
  }

  attach(consumer: NativeConsumer): void {
    this.#consumer = consumer;
  }

  /** The `rebalance_cb` (bound): queue the event behind the ones before it. */
  readonly callback = (err: { code: number }, assignment: { topic: string; partition: number }[]): void => {
    const parts = assignment.map((a) => ({ topic: a.topic, partition: a.partition }));
    const consumer = this.#consumer;
    // The protocol and whether the assignment was lost are read now, while the client is in this rebalance.
    let lost = false;
    if (consumer !== undefined && consumer.isConnected()) {
      const protocol = consumer.rebalanceProtocol();
      if (protocol !== 'NONE') this.#cooperative = protocol === 'COOPERATIVE';
      if (err.code !== ERR.ASSIGN_PARTITIONS) lost = consumer.assignmentLost();
    }
    if (err.code !== ERR.ASSIGN_PARTITIONS && this.#closing) {
      void this.#revoke(parts, lost);
      return;
    }
    this.#chain = this.#chain.then(() => (err.code === ERR.ASSIGN_PARTITIONS ? this.#assign(parts) : this.#revoke(parts, lost)));
  };

  /** The partitions assigned now (as far as this consumer's own assign calls go). */
  owned(): PartitionId[] {
    return [...this.#owned.values()];
  }

  /** Whether this partition is assigned now. */
  owns(topic: string, partition: number): boolean {
    return this.#owned.has(partitionKey(topic, partition));
  }

  /** The consumer is about to close: revocations jump the queue, pending assignments are dropped. */
  closing(): void {
    this.#closing = true;
  }

  /** Resolves once every event received so far is handled. */
  idle(): Promise<void> {
    return this.#chain;
  }

  async #assign(parts: PartitionId[]): Promise<void> {
    let list: AssignedPartition[];
    try {
      list = await this.#owner.assigned(parts);
    } catch (err) {
      // The owner retries what it can; what escapes still gets assigned, from the committed offsets.
      this.#log.error({ err, partitions: parts }, 'planning the assigned partitions failed; assigning them from the committed offsets');
      list = parts.map((p) => ({ ...p }));
    }
    if (this.#closing) return;
    try {
      if (this.#cooperative) this.#consumer!.incrementalAssign(list);
      else this.#consumer!.assign(list);
      if (!this.#cooperative) this.#owned.clear();
      for (const p of list) this.#owned.set(partitionKey(p.topic, p.partition), { topic: p.topic, partition: p.partition });
    } catch (err) {
      this.#log.warn({ err: (err as Error).message, partitions: parts }, 'assign failed (the consumer is closing?)');
    }
  }

  /** Tell the owner, then unassign: at once when it answers synchronously, after its promise otherwise. */
  #revoke(parts: PartitionId[], lost: boolean): Promise<void> | undefined {
    if (this.#cooperative) for (const p of parts) this.#owned.delete(partitionKey(p.topic, p.partition));
    else this.#owned.clear();
    let pending: void | Promise<void> = undefined;
    try {
      pending = this.#owner.revoked(parts, lost);
    } catch (err) {
      this.#log.error({ err }, 'revocation handler failed');
    }
    if (pending === undefined) {
      this.#unassign(parts);
      return undefined;
    }
    return pending.then(
      () => this.#unassign(parts),
      (err: unknown) => {
        this.#log.error({ err }, 'revocation handler failed');
        this.#unassign(parts);
      },
    );
  }

  #unassign(parts: PartitionId[]): void {
    try {
      if (this.#cooperative) this.#consumer!.incrementalUnassign(parts);
      else this.#consumer!.unassign();
    } catch (err) {
      this.#log.warn({ err: (err as Error).message, partitions: parts }, 'unassign failed (the consumer is closing?)');
    }
  }
}
