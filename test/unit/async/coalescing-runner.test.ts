import { describe, expect, it } from 'vitest';
import { CoalescingRunner } from '../../../src/async/coalescing-runner.js';

describe('CoalescingRunner', () => {
  it('never runs two jobs at once and folds requests made meanwhile into one more run', async () => {
    const ran: string[] = [];
    let release!: () => void;
    let active = 0;
    let maxActive = 0;
    const r = new CoalescingRunner<string>(async (reason) => {
      active++;
      maxActive = Math.max(maxActive, active);
      ran.push(reason);
      if (reason === 'first') await new Promise<void>((res) => (release = res));
      active--;
    }, (pending, next) => (pending === 'important' ? pending : next));
    r.request('first');
    r.request('a');
    r.request('important');
    r.request('b');
    expect(r.busy).toBe(true);
    release();
    while (r.busy) await new Promise((res) => setImmediate(res));
    expect(ran).toEqual(['first', 'important']);
    await r.stop();
    expect(maxActive).toBe(1);
    r.request('after-stop');
    expect(ran).toEqual(['first', 'important']);
  });

  it('stop() drops what is pending and waits for the run in progress', async () => {
    const ran: string[] = [];
    let release!: () => void;
    const r = new CoalescingRunner<string>(async (reason) => {
      ran.push(reason);
      if (reason === 'first') await new Promise<void>((res) => (release = res));
    });
    r.request('first');
    r.request('pending');
    const stopped = r.stop();
    release();
    await stopped;
    expect(ran).toEqual(['first']);
    expect(r.busy).toBe(false);
  });
});
