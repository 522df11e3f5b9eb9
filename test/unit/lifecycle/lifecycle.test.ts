import { describe, expect, it } from 'vitest';
import { Lifecycle, type TransitionTable } from '../../../src/lifecycle/lifecycle.js';

type S = 'created' | 'starting' | 'running' | 'stopping' | 'stopped';
const TABLE: TransitionTable<S> = {
  created: ['starting', 'stopped'],
  starting: ['running', 'stopping'],
  running: ['stopping'],
  stopping: ['stopped'],
  stopped: [],
};

describe('Lifecycle', () => {
  it('moves along the table and tells its listeners', () => {
    const l = new Lifecycle<S>('thing', 'created', TABLE);
    const seen: string[] = [];
    l.onChange((next, prev) => seen.push(`${prev}>${next}`));
    l.to('starting');
    l.to('running');
    l.to('running'); // not a move
    expect(l.state).toBe('running');
    expect(seen).toEqual(['created>starting', 'starting>running']);
  });

  it('an illegal move throws INVALID_TRANSITION with the component and both states, and changes nothing', () => {
    const l = new Lifecycle<S>('KafkaInput', 'created', TABLE);
    expect(() => l.to('running')).toThrow(expect.objectContaining({ code: 'INVALID_TRANSITION', details: { component: 'KafkaInput', from: 'created', to: 'running' } }));
    expect(() => l.to('running')).toThrow(/KafkaInput: created → running/);
    expect(l.state).toBe('created');
    expect(l.tryTo('running')).toBe(false);
    expect(l.tryTo('stopped')).toBe(true);
    expect(() => l.to('starting')).toThrow(/stopped → starting/);
  });

  it('require() guards a method by state with SUPERVISOR_STATE', () => {
    const l = new Lifecycle<S>('Supervisor', 'created', TABLE);
    expect(() => l.require('dispatch', 'running')).toThrow(expect.objectContaining({ code: 'SUPERVISOR_STATE', message: 'Supervisor: dispatch() in state created' }));
    l.to('starting');
    expect(() => l.require('dispatch', 'starting', 'running')).not.toThrow();
  });

  it('reached() resolves once one of the states is entered, at once if already in it', async () => {
    const l = new Lifecycle<S>('x', 'created', TABLE);
    await expect(l.reached('created')).resolves.toBe('created');
    const p = l.reached('running', 'stopped');
    let done = false;
    void p.then(() => (done = true));
    l.to('starting');
    await Promise.resolve();
    expect(done).toBe(false);
    l.to('stopping');
    l.to('stopped');
    await expect(p).resolves.toBe('stopped');
  });
});
