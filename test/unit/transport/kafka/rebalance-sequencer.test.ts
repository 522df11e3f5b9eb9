import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ERR, type NativeConsumer } from '../../../../src/transport/kafka/native-client.js';
import type { PartitionId } from '../../../../src/transport/kafka/partition-key.js';
import { RebalanceSequencer, type PartitionOwner } from '../../../../src/transport/kafka/rebalance-sequencer.js';

const ASSIGN = { code: ERR.ASSIGN_PARTITIONS };
const REVOKE = { code: ERR.REVOKE_PARTITIONS };
const tp = (...ps: number[]): PartitionId[] => ps.map((partition) => ({ topic: 't', partition }));

/** The calls a consumer gets from the sequencer, in order; the protocol and loss flag it reports. */
function fakeConsumer(protocol: 'EAGER' | 'COOPERATIVE' = 'EAGER') {
  const calls: string[] = [];
  const state = { protocol: protocol as string, lost: false, connected: true };
  const fmt = (l: { partition: number; offset?: number }[]): string => l.map((p) => (p.offset === undefined ? `${p.partition}` : `${p.partition}@${p.offset}`)).join(',');
  const consumer = {
    isConnected: () => state.connected,
    rebalanceProtocol: () => (state.connected ? state.protocol : 'NONE'),
    assignmentLost: () => state.lost,
    assign: (l: { partition: number; offset?: number }[]) => calls.push(`assign ${fmt(l)}`),
    unassign: () => calls.push('unassign'),
    incrementalAssign: (l: { partition: number; offset?: number }[]) => calls.push(`incrementalAssign ${fmt(l)}`),
    incrementalUnassign: (l: { partition: number }[]) => calls.push(`incrementalUnassign ${fmt(l)}`),
  } as unknown as NativeConsumer;
  return { consumer, calls, state };
}

/** An owner whose assignment plans wait until released (a committed-offsets read in flight). */
function slowOwner() {
  const heard: string[] = [];
  const pending: (() => void)[] = [];
  const owner: PartitionOwner = {
    assigned: (parts) =>
      new Promise((resolve) => {
        heard.push(`assigned ${parts.map((p) => p.partition).join(',')}`);
        pending.push(() => resolve(parts.map((p) => ({ ...p, offset: 100 + p.partition }))));
      }),
    revoked: (parts, lost) => void heard.push(`revoked ${parts.map((p) => p.partition).join(',')}${lost ? ' lost' : ''}`),
  };
  return { owner, heard, release: () => pending.shift()?.() };
}

const log = pino({ level: 'silent' });

describe('RebalanceSequencer: the application side of the group protocol', () => {
  it('eager: assigns what the owner planned, revokes the whole set, in the order the client gave them', async () => {
    const { consumer, calls } = fakeConsumer();
    const { owner, heard, release } = slowOwner();
    const s = new RebalanceSequencer(owner, log);
    s.attach(consumer);
    s.callback(ASSIGN, tp(0, 1));
    s.callback(REVOKE, tp(0, 1));
    s.callback(ASSIGN, tp(2));
    await Promise.resolve();
    // The revocation waits behind the assignment that is still planning.
    expect(calls).toEqual([]);
    release();
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual(['assign 0@100,1@101', 'unassign']);
    expect(s.owned()).toEqual([]);
    release();
    await s.idle();
    expect(calls).toEqual(['assign 0@100,1@101', 'unassign', 'assign 2@102']);
    expect(heard).toEqual(['assigned 0,1', 'revoked 0,1', 'assigned 2']);
    expect(s.owned()).toEqual(tp(2));
    expect(s.owns('t', 2)).toBe(true);
    expect(s.owns('t', 0)).toBe(false);
  });

  it('cooperative: incremental assign and unassign of just the partitions named', async () => {
    const { consumer, calls } = fakeConsumer('COOPERATIVE');
    const owner: PartitionOwner = { assigned: (parts) => parts, revoked: () => {} };
    const s = new RebalanceSequencer(owner, log);
    s.attach(consumer);
    s.callback(ASSIGN, tp(0, 1));
    s.callback(ASSIGN, tp(2));
    s.callback(REVOKE, tp(1));
    await s.idle();
    expect(calls).toEqual(['incrementalAssign 0,1', 'incrementalAssign 2', 'incrementalUnassign 1']);
    expect(s.owned()).toEqual(tp(0, 2));
  });

  it('a lost assignment is read while the client is in the rebalance and passed to the owner', async () => {
    const { consumer, state } = fakeConsumer();
    const { owner, heard } = slowOwner();
    const s = new RebalanceSequencer(owner, log);
    s.attach(consumer);
    state.lost = true;
    s.callback(REVOKE, tp(0));
    state.lost = false;
    await s.idle();
    expect(heard).toEqual(['revoked 0 lost']);
  });

  it('closing: the final revocation does not wait behind a pending assignment, which is then dropped', async () => {
    const { consumer, calls } = fakeConsumer();
    const { owner, release } = slowOwner();
    const s = new RebalanceSequencer(owner, log);
    s.attach(consumer);
    s.callback(ASSIGN, tp(0));
    s.closing();
    s.callback(REVOKE, tp(0));
    expect(calls).toEqual(['unassign']);
    await new Promise((r) => setImmediate(r));
    release();
    await s.idle();
    expect(calls).toEqual(['unassign']);
  });

  it('a throwing owner still leads to an assignment (from the committed offsets) and an unassign', async () => {
    const { consumer, calls } = fakeConsumer();
    const owner: PartitionOwner = {
      assigned: async () => Promise.reject(new Error('boom')),
      revoked: () => {
        throw new Error('boom');
      },
    };
    const s = new RebalanceSequencer(owner, log);
    s.attach(consumer);
    s.callback(ASSIGN, tp(0));
    s.callback(REVOKE, tp(0));
    await s.idle();
    expect(calls).toEqual(['assign 0', 'unassign']);
  });

  it('during the client\'s close the protocol reads NONE: the one seen before is kept', async () => {
    const { consumer, calls, state } = fakeConsumer('COOPERATIVE');
    const s = new RebalanceSequencer({ assigned: (p) => p, revoked: () => {} }, log);
    s.attach(consumer);
    s.callback(ASSIGN, tp(0));
    await s.idle();
    state.connected = false;
    s.closing();
    s.callback(REVOKE, tp(0));
    expect(calls).toEqual(['incrementalAssign 0', 'incrementalUnassign 0']);
  });
});
