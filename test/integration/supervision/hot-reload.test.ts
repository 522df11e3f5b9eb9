import { describe, expect, it } from 'vitest';
import { MemorySignalSink, MemoryTickSource } from '../../../src/transport/memory/memory-sources.js';
import { ticksOnly } from '../../../src/async/interleave.js';
import { Pipeline } from '../../../src/pipeline/pipeline.js';
import { configs, memoryLogger, newSupervisor, runTicks, signalsOf, strategyStatus } from '../../helpers/runtime.js';
import { randomWalk, ticksOf } from '../../helpers/ticks.js';

describe('hot reload (Supervisor.applyConfigs)', { timeout: 60_000 }, () => {
  it('adds, changes and stops strategies between ticks, swapping the routes whole', async () => {
    const { supervisor } = await newSupervisor();
    try {
      await supervisor.start(configs([{ id: 'a', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 1 } }]));
      const phase = async (from: number) => (await runTicks(supervisor, ticksOf(1, [10, 11, 12, 13], from * 1000))).map((s) => `${s.strategy_id}@${s.price}`);
      expect(await phase(0)).toEqual(['a@10', 'a@11', 'a@12', 'a@13']);

      const added = await supervisor.applyConfigs(configs([
        { id: 'a', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 1 } },
        { id: 'b', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 2 } },
      ]));
      expect(added).toEqual({ added: ['b'], removed: [], changed: [], rejected: [] });
      // b was re-warmed with the 4 ticks it missed: its own count goes on from there (ticks 6 and 8 of its life).
      expect(await phase(10)).toEqual(['a@10', 'a@11', 'b@11', 'a@12', 'a@13', 'b@13']);
      expect(supervisor.routes.strategiesFor(1)).toEqual(['a', 'b']);

      const changed = await supervisor.applyConfigs(configs([
        { id: 'a', strategy_type: 'EveryNth', instruments: [1, 2], parameters: { n: 1 } },
        { id: 'b', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 3 } },
        { id: 'c', strategy_type: 'NoSuchType', instruments: [1] },
      ]));
      expect(changed).toEqual({ added: [], removed: [], changed: ['a', 'b'], rejected: ['c'] });
      expect(supervisor.routes.strategiesFor(2)).toEqual(['a']);
      const st = await supervisor.status();
      expect(st.rejected.map((r) => r.id)).toEqual(['c']);
      const b = st.threads.flatMap((t) => t.strategies).find((s) => s['id'] === 'b')!;
      expect(b['last_restart_reason']).toBe('configuration changed (parameters)');

      const removed = await supervisor.applyConfigs(configs([
        { id: 'a', strategy_type: 'EveryNth', instruments: [1, 2], parameters: { n: 1 } },
        { id: 'b', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 3 }, is_active: false },
      ]));
      expect(removed).toEqual({ added: [], removed: ['b'], changed: [], rejected: [] });
      expect(await phase(20)).toEqual(['a@10', 'a@11', 'a@12', 'a@13']);
      expect((await supervisor.status()).rejected).toEqual([]); // c left the configuration
      // One thread per strategy: b's thread was stopped with it.
      expect(supervisor.threads.map((t) => t.state)).toEqual(['ready']);
    } finally {
      await supervisor.stop();
    }
  });

  it('a strategy with onParams takes new parameters live and keeps its state; without it, or if it throws, it restarts', async () => {
    const { supervisor } = await newSupervisor();
    try {
      await supervisor.start(configs([
        { id: 'live', strategy_type: 'EveryNthLive', instruments: [1], parameters: { n: 2 } },
        { id: 'plain', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 2 } },
      ]));
      const phase = async (from: number) => (await runTicks(supervisor, ticksOf(1, [10, 11, 12], from * 1000))).map((s) => `${s.strategy_id}@${s.price}`);
      // counts 1..3: both sell on count 2
      expect(await phase(0)).toEqual(['live@11', 'plain@11']);
      const r = await supervisor.applyConfigs(configs([
        { id: 'live', strategy_type: 'EveryNthLive', instruments: [1], parameters: { n: 5 } },
        { id: 'plain', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 5 } },
      ]));
      expect(r).toEqual({ added: [], removed: [], changed: ['live', 'plain'], rejected: [] });
      // live keeps counting (4, 5, 6: sells on 5, with this.params.n = 5); plain restarted and was re-warmed from the recent ticks (the same counts)…
      expect(await phase(10)).toEqual(['live@11', 'plain@11']);
      const st = await supervisor.status();
      const byId = (id: string) => st.threads.flatMap((t) => t.strategies).find((s) => s['id'] === id)!;
      // … but only plain restarted
      expect(byId('live')['restarts']).toBe(0);
      expect(byId('plain')['last_restart_reason']).toBe('configuration changed (parameters)');
      // onParams throws for n = 13: restarted with the new parameters
      const refused = await supervisor.applyConfigs(configs([
        { id: 'live', strategy_type: 'EveryNthLive', instruments: [1], parameters: { n: 13 } },
        { id: 'plain', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 5 } },
      ]));
      expect(refused.changed).toEqual(['live']);
      const after = (await supervisor.status()).threads.flatMap((t) => t.strategies).find((s) => s['id'] === 'live')!;
      expect(after['last_restart_reason']).toBe('configuration changed (parameters)');
      expect(after['restarts']).toBe(1);
    } finally {
      await supervisor.stop();
    }
  });

  it('applies changes while ticks flow without disturbing the unchanged strategies', async () => {
    const tokens = [1, 2, 3];
    const ticks = randomWalk(tokens, 6000, 3);
    const steady = [{ id: 'steady', strategy_type: 'SimpleMomentumStrategy', instruments: tokens, parameters: { lookback_period: 5, momentum_threshold: 0.002 } }];
    const alone = await signalsOf(steady, ticks);
    const { supervisor } = await newSupervisor({ poolSize: 2 });
    try {
      await supervisor.start(configs(steady));
      const sink = new MemorySignalSink();
      const pipeline = new Pipeline({ supervisor, sink, logger: memoryLogger('silent').logger, mode: 'streaming', maxPendingDeliveries: 64 });
      const run = pipeline.run(ticksOnly(new MemoryTickSource(ticks, 20)));
      const extra = { id: 'extra', strategy_type: 'MeanReversionStrategy', instruments: tokens, parameters: { lookback_period: 10 } };
      for (let i = 0; i < 5; i++) {
        await supervisor.applyConfigs(configs([...steady, extra]));
        await supervisor.applyConfigs(configs([...steady, { ...extra, parameters: { lookback_period: 12 } }]));
        await supervisor.applyConfigs(configs(steady));
      }
      await run;
      expect(sink.signals.filter((s) => s.strategy_id === 'steady')).toEqual(alone);
      expect(pipeline.counters.tickErrors).toBe(0);
    } finally {
      await supervisor.stop();
    }
  });

  it('an invalid update leaves the running version running, is reported with its reason, and the next valid change applies', async () => {
    const { supervisor, lines } = await newSupervisor();
    try {
      const a = { id: 'a', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 1 } };
      await supervisor.start(configs([a]));
      const prices = async (from: number) => (await runTicks(supervisor, ticksOf(1, [10, 11, 12, 13], from * 1000))).map((s) => s.price);

      // Bad parameters: rejected, the running version goes on.
      const bad = await supervisor.applyConfigs(configs([{ ...a, parameters: { n: -1 } }]));
      expect(bad).toEqual({ added: [], removed: [], changed: [], rejected: ['a'] });
      expect(supervisor.strategyState('a')).toBe('running');
      expect(await prices(0)).toEqual([10, 11, 12, 13]);
      let st = await strategyStatus(supervisor, 'a');
      expect(st).toMatchObject({ state: 'running', restarts: 0, rejected_updates: 1, rejected_update: { code: 'STRATEGY_PARAMS_INVALID', fields: ['parameters'] } });
      expect(String(st.rejected_update?.error)).toMatch(/strategy 'a'.*n/);
      const logged = lines.filter((l) => l['msg'] === 'strategy configuration update rejected: the running version keeps running');
      expect(logged).toEqual([expect.objectContaining({ strategy_id: 'a', code: 'STRATEGY_PARAMS_INVALID', err: expect.stringContaining("strategy 'a'") })]);
      // Not in `rejected` (the strategies that did not start): it runs.
      expect((await supervisor.status()).rejected).toEqual([]);
      expect((await supervisor.status()).totals['rejected_updates']).toBe(1);

      // The same row read again (a periodic reload) is not news: not counted, not logged again.
      expect(await supervisor.applyConfigs(configs([{ ...a, parameters: { n: -1 } }]))).toEqual({ added: [], removed: [], changed: [], rejected: [] });
      expect(lines.filter((l) => l['msg'] === 'strategy configuration update rejected: the running version keeps running')).toHaveLength(1);

      // An unknown type: the same.
      expect((await supervisor.applyConfigs(configs([{ ...a, strategy_type: 'NoSuchType' }]))).rejected).toEqual(['a']);
      st = await strategyStatus(supervisor, 'a');
      expect(st).toMatchObject({ state: 'running', type: 'EveryNth', rejected_updates: 2, rejected_update: { code: 'STRATEGY_TYPE_UNKNOWN', fields: ['strategy_type'] } });
      expect(await prices(10)).toEqual([10, 11, 12, 13]);

      // Fixed: the next valid change restarts it with the new configuration.
      expect(await supervisor.applyConfigs(configs([{ ...a, parameters: { n: 2 } }]))).toEqual({ added: [], removed: [], changed: ['a'], rejected: [] });
      st = await strategyStatus(supervisor, 'a');
      expect(st).toMatchObject({ state: 'running', restarts: 1, rejected_update: null, rejected_updates: 2, last_restart_reason: 'configuration changed (parameters)' });
      expect(await prices(20)).toEqual([11, 13]);

      // Set back to what runs, after a rejected update: nothing to apply, nothing pending.
      await supervisor.applyConfigs(configs([{ ...a, parameters: { n: 0 } }]));
      expect((await strategyStatus(supervisor, 'a'))['rejected_update']).not.toBeNull();
      expect(await supervisor.applyConfigs(configs([{ ...a, parameters: { n: 2 } }]))).toEqual({ added: [], removed: [], changed: [], rejected: [] });
      expect(await strategyStatus(supervisor, 'a')).toMatchObject({ rejected_update: null, restarts: 1 });
    } finally {
      await supervisor.stop();
    }
  });

  it('an update that passes validation but fails to start (onStart throws) is rejected, and the version that ran before runs again', async () => {
    const { supervisor, lines } = await newSupervisor();
    try {
      const a = { id: 'a', strategy_type: 'EveryNth', instruments: [1], parameters: { n: 1 } };
      await supervisor.start(configs([a]));
      const prices = async (from: number) => (await runTicks(supervisor, ticksOf(1, [10, 11, 12, 13], from * 1000))).map((s) => s.price);
      expect(await prices(0)).toEqual([10, 11, 12, 13]);

      const report = await supervisor.applyConfigs(configs([{ ...a, strategy_type: 'FailsToStart', parameters: {} }]));
      expect(report).toEqual({ added: [], removed: [], changed: [], rejected: ['a'] });
      const st = await strategyStatus(supervisor, 'a');
      expect(st).toMatchObject({ state: 'running', type: 'EveryNth', rejected_updates: 1, rejected_update: { code: 'STRATEGY_START_FAILED' } });
      expect(String(st.rejected_update?.error)).toContain('cannot connect to my imaginary data vendor');
      expect(lines.some((l) => l['msg'] === 'strategy configuration update rejected: the running version keeps running' && l['code'] === 'STRATEGY_START_FAILED')).toBe(true);
      // The old version runs on (fresh: it was restarted), not quarantined.
      expect(supervisor.strategyState('a')).toBe('running');
      expect(await prices(10)).toEqual([10, 11, 12, 13]);
      // The same row read again is not news.
      expect(await supervisor.applyConfigs(configs([{ ...a, strategy_type: 'FailsToStart', parameters: {} }]))).toEqual({ added: [], removed: [], changed: [], rejected: [] });
    } finally {
      await supervisor.stop();
    }
  });
});
