import { collectProcessErrors } from '../../../helpers/process-errors.js';
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { ThreadRuntime } from '../../../../workers/runtime/thread-runtime.js';
import { PROTOCOL_VERSION, type BatchResultMessage, type DataOutput, type InitRequest, type SlotHealth } from '../../../../src/protocol/messages.js';
import { encodeTickBatch } from '../../../../src/protocol/tick-batch-codec.js';
import { parseStrategyConfigs, type StrategyConfig, type StrategyConfigInput } from '../../../../src/config/strategy-config.js';
import { applyFill, emptyPortfolio } from '../../../../src/domain/portfolio.js';
import { signalId } from '../../../../src/domain/signal.js';
import type { Fill } from '../../../../src/domain/fill.js';
import type { Tick } from '../../../../src/domain/tick.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/scripted.mjs', import.meta.url));

// ------------------------------------------------------------------ harness

interface Harness {
  rt: ThreadRuntime;
  /** the supervisor's end of the data port */
  port: MessagePort;
  /** everything the runtime posted on the data port */
  outputs: DataOutput[];
}

const openPorts: MessagePort[] = [];

afterEach(() => {
  for (const p of openPorts.splice(0)) p.close();
});

beforeEach(() => {
  (globalThis as { __scriptedEvents?: string[] }).__scriptedEvents = [];
});

function events(): string[] {
  return (globalThis as { __scriptedEvents?: string[] }).__scriptedEvents ?? [];
}

function newRuntime(): Harness {
  const { port1, port2 } = new MessageChannel();
  openPorts.push(port1, port2);
  const rt = new ThreadRuntime(port1);
  const outputs: DataOutput[] = [];
  port2.on('message', (m: DataOutput) => outputs.push(m));
  return { rt, port: port2, outputs };
}

function initRequest(overrides: Partial<InitRequest> = {}): InitRequest {
  return { protocolVersion: PROTOCOL_VERSION, threadIndex: 0, modules: [FIXTURE], baseDir: process.cwd(), logLevel: 'silent', heartbeatIntervalMs: 0, ...overrides };
}

async function initialised(overrides: Partial<InitRequest> = {}): Promise<Harness> {
  const h = newRuntime();
  const r = await h.rt.init(initRequest(overrides));
  if (!r.ok) throw new Error(`init failed: ${r.error.code} ${r.error.message}`);
  return h;
}

function config(input: Partial<StrategyConfigInput> & { id: string }): StrategyConfig {
  const r = parseStrategyConfigs([{ strategy_type: 'Scripted', instruments: [256265], ...input }], 'test');
  if (r.configs[0] === undefined) throw r.errors[0];
  return r.configs[0];
}

async function start(h: Harness, slot: number, input: Partial<StrategyConfigInput> & { id: string }): Promise<void> {
  const r = await h.rt.startStrategy({ slot, config: config(input), portfolio: emptyPortfolio(0) });
  if (!r.ok) throw new Error(`start failed: ${r.error.code} ${r.error.message}`);
}

/** A tick telling the Scripted strategies what to do: `acts` per strategy id, or one `act` for all. */
function tick(price: number, acts: Record<string, string> | string | undefined = undefined, ts = 1_704_100_500_000 + price): Tick {
  const t: Tick = { instrument_token: 256265, last_price: price, timestamp: ts };
  if (typeof acts === 'string') return { ...t, act: acts };
  if (acts !== undefined) return { ...t, acts };
  return t;
}

/** Flat routes: every tick to the same slots. */
function routesFor(count: number, slots: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(slots.length, ...slots);
  return out;
}

function batch(ticks: Tick[], slots: readonly number[], n = 1): { t: 'ticks'; batch: number; ticks: Tick[]; routes: number[] } {
  return { t: 'ticks', batch: n, ticks, routes: routesFor(ticks.length, slots) };
}

async function slotHealth(h: Harness, slot: number): Promise<SlotHealth> {
  const s = (await h.rt.health()).slots.find((x) => x.slot === slot);
  if (s === undefined) throw new Error(`slot ${slot} not in health()`);
  return s;
}

async function nextOutput<T extends DataOutput['t']>(h: Harness, t: T): Promise<Extract<DataOutput, { t: T }>> {
  for (let i = 0; i < 200; i++) {
    const m = h.outputs.find((o) => o.t === t);
    if (m !== undefined) return m as Extract<DataOutput, { t: T }>;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`no '${t}' message arrived`);
}

const settle = (ms = 30): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ init

describe('ThreadRuntime.init', () => {
  it('answers with the protocol version, the thread id and the registered types (built-ins + modules)', async () => {
    const h = newRuntime();
    const r = await h.rt.init(initRequest());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.protocolVersion).toBe(PROTOCOL_VERSION);
    expect(typeof r.value.threadId).toBe('number');
    expect(r.value.types).toEqual(['CreateReturnsNothing', 'MeanReversionStrategy', 'Scripted', 'SimpleMomentumStrategy', 'StartFails', 'StopThrows']);
  });

  it('without modules only the built-ins are known', async () => {
    const h = newRuntime();
    const r = await h.rt.init(initRequest({ modules: [] }));
    expect(r.ok && r.value.types).toEqual(['MeanReversionStrategy', 'SimpleMomentumStrategy']);
  });

  it('a protocol mismatch is ok:false WORKER_PROTOCOL_MISMATCH naming both versions', async () => {
    const h = newRuntime();
    const r = await h.rt.init(initRequest({ protocolVersion: PROTOCOL_VERSION + 1 }));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('WORKER_PROTOCOL_MISMATCH');
    expect(r.error.message).toContain(String(PROTOCOL_VERSION));
    expect(r.error.message).toContain(String(PROTOCOL_VERSION + 1));
    // and the runtime is not usable
    const s = await h.rt.startStrategy({ slot: 0, config: config({ id: 'x' }), portfolio: emptyPortfolio(0) });
    expect(!s.ok && s.error.code).toBe('SUPERVISOR_STATE');
  });

  it('a module that cannot be loaded is ok:false STRATEGY_MODULE_LOAD_FAILED', async () => {
    const h = newRuntime();
    const r = await h.rt.init(initRequest({ modules: ['./no/such/module.mjs'] }));
    expect(!r.ok && r.error.code).toBe('STRATEGY_MODULE_LOAD_FAILED');
  });

  it('with a heartbeat interval, posts a heartbeat right away', async () => {
    const h = await initialised({ heartbeatIntervalMs: 10_000 });
    const hb = await nextOutput(h, 'heartbeat');
    expect(hb.heapUsed).toBeGreaterThan(0);
    expect(Math.abs(hb.at - Date.now())).toBeLessThan(5000);
    await h.rt.shutdown();
  });

  it('with heartbeatIntervalMs 0 and logLevel silent, posts nothing', async () => {
    const h = await initialised();
    await start(h, 0, { id: 'quiet' });
    await settle();
    expect(h.outputs).toEqual([]);
  });
});

// ------------------------------------------------------------------ startStrategy

describe('ThreadRuntime.startStrategy', () => {
  it('before init is ok:false SUPERVISOR_STATE', async () => {
    const h = newRuntime();
    const r = await h.rt.startStrategy({ slot: 0, config: config({ id: 'early' }), portfolio: emptyPortfolio(0) });
    expect(!r.ok && r.error.code).toBe('SUPERVISOR_STATE');
  });

  it('creates the instance, awaits onStart and reports the slot as running', async () => {
    const h = await initialised();
    const r = await h.rt.startStrategy({ slot: 7, config: config({ id: 's1' }), portfolio: emptyPortfolio(0) });
    expect(r).toEqual({ ok: true, value: 'none' });
    expect(events()).toEqual(['create s1', 'start s1']);
    const s = await slotHealth(h, 7);
    expect(s).toMatchObject({ slot: 7, strategyId: 's1', strategyType: 'Scripted', state: 'running', ticksIn: 0, signalsOut: 0, errors: 0, consecutiveErrors: 0, fillsApplied: 0 });
    expect(s.lastError).toBeUndefined();
  });

  it('an unknown type is ok:false STRATEGY_TYPE_UNKNOWN and no slot is created', async () => {
    const h = await initialised();
    const r = await h.rt.startStrategy({ slot: 0, config: config({ id: 'u', strategy_type: 'NoSuchType' }), portfolio: emptyPortfolio(0) });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('STRATEGY_TYPE_UNKNOWN');
    expect(r.error.message).toContain('NoSuchType');
    expect(r.error.details).toMatchObject({ strategy_id: 'u', strategy_type: 'NoSuchType' });
    expect((await h.rt.health()).slots).toEqual([]);
  });

  it('bad parameters are ok:false STRATEGY_PARAMS_INVALID naming the field', async () => {
    const h = await initialised();
    const a = await h.rt.startStrategy({ slot: 0, config: config({ id: 'p1', parameters: { quantity: -1 } }), portfolio: emptyPortfolio(0) });
    expect(!a.ok && a.error.code).toBe('STRATEGY_PARAMS_INVALID');
    expect(!a.ok && a.error.message).toContain('quantity');
    const b = await h.rt.startStrategy({
      slot: 1,
      config: config({ id: 'p2', strategy_type: 'SimpleMomentumStrategy', parameters: { lookback_period: 0 } }),
      portfolio: emptyPortfolio(0),
    });
    expect(!b.ok && b.error.code).toBe('STRATEGY_PARAMS_INVALID');
    expect(!b.ok && b.error.message).toContain('lookback_period');
    expect((await h.rt.health()).slots).toEqual([]);
  });

  it('onStart throwing is ok:false STRATEGY_START_FAILED with the cause in the message; the slot stays free', async () => {
    const h = await initialised();
    const r = await h.rt.startStrategy({ slot: 0, config: config({ id: 'sf', strategy_type: 'StartFails' }), portfolio: emptyPortfolio(0) });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('STRATEGY_START_FAILED');
    expect(r.error.message).toContain("'sf'");
    expect(r.error.message).toContain('vendor unreachable');
    expect(r.error.details).toEqual({ strategy_id: 'sf' });
    await start(h, 0, { id: 'after' }); // slot 0 can be used
    expect((await h.rt.health()).slots.map((s) => s.strategyId)).toEqual(['after']);
  });

  it('create() returning something without onTick is ok:false STRATEGY_DEFINITION_INVALID', async () => {
    const h = await initialised();
    const r = await h.rt.startStrategy({ slot: 0, config: config({ id: 'cr', strategy_type: 'CreateReturnsNothing' }), portfolio: emptyPortfolio(0) });
    expect(!r.ok && r.error.code).toBe('STRATEGY_DEFINITION_INVALID');
  });

  it('a slot already in use is ok:false SUPERVISOR_STATE and the first strategy keeps it', async () => {
    const h = await initialised();
    await start(h, 3, { id: 'first' });
    const r = await h.rt.startStrategy({ slot: 3, config: config({ id: 'second' }), portfolio: emptyPortfolio(0) });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('SUPERVISOR_STATE');
    expect(r.error.message).toContain('3');
    expect(events()).toEqual(['create first', 'start first']); // the second was never created
    const res = h.rt.processBatch(batch([tick(100, 'buy')], [3]));
    expect(res.signals.map((s) => s.signal.strategy_id)).toEqual(['first']);
  });

  it('logs "strategy started" through the data port when the level allows', async () => {
    const h = await initialised({ logLevel: 'info', threadIndex: 4 });
    await start(h, 0, { id: 'logged' });
    const log = await nextOutput(h, 'log');
    const line = JSON.parse(log.line) as Record<string, unknown>;
    expect(line).toMatchObject({ msg: 'strategy started', strategy_id: 'logged', strategy_type: 'Scripted', thread: 4, level: 'info' });
  });
});

// ------------------------------------------------------------------ processBatch

describe('ThreadRuntime.processBatch', () => {
  it('emits signals in tick order, then slot order, then emission order, with tick indexes', async () => {
    const h = await initialised();
    await start(h, 0, { id: 'a' });
    await start(h, 1, { id: 'b', brokers: ['zerodha', 'paper'] });
    const ticks = [
      tick(100, { a: 'buy', b: 'sell-reason' }),
      tick(101),
      tick(102, { a: 'two' }),
      tick(103, { a: 'buy', b: 'buy' }),
      tick(104, { b: 'buy' }),
    ];
    const routes = [2, 0, 1, 2, 0, 1, 1, 0, 0, 2, 0, 1]; // tick 3 goes to nobody
    const res = h.rt.processBatch({ t: 'ticks', batch: 9, ticks, routes });
    expect(res.t).toBe('result');
    expect(res.batch).toBe(9);
    expect(res.errors).toEqual([]);
    expect(res.signals.map((e) => `${e.i}:${e.signal.strategy_id}:${e.signal.broker}:${e.signal.side}:${e.signal.quantity}`)).toEqual([
      '0:a:paper:BUY:1',
      '0:b:zerodha:SELL:2',
      '0:b:paper:SELL:2',
      '2:a:paper:BUY:1',
      '2:a:paper:SELL:3',
      '4:b:zerodha:BUY:1',
      '4:b:paper:BUY:1',
    ]);
  });

  it('fills every signal field from the tick and the config; the id is deterministic', async () => {
    const h = await initialised();
    await start(h, 0, { id: 'b', brokers: ['zerodha', 'paper'] });
    const t = tick(24_567.5, 'sell-reason', 1_704_100_500_000);
    const res = h.rt.processBatch(batch([t, tick(10, 'two', 1_704_100_501_000)], [0]));
    expect(res.signals[0]).toEqual({
      i: 0,
      signal: {
        signal_id: signalId('b', 'zerodha', 256265, 1_704_100_500_000, 24_567.5, 0),
        strategy_id: 'b',
        strategy_type: 'Scripted',
        instrument_token: 256265,
        side: 'SELL',
        quantity: 2,
        price: 24_567.5,
        tick_timestamp: 1_704_100_500_000,
        broker: 'zerodha',
        reason: 'because',
      },
    });
    expect(res.signals[1]!.signal.signal_id).toBe(signalId('b', 'paper', 256265, 1_704_100_500_000, 24_567.5, 0));
    // the second intent of one onTick has emission index 1
    expect(res.signals.filter((s) => s.i === 1).map((s) => s.signal.signal_id)).toEqual([
      signalId('b', 'zerodha', 256265, 1_704_100_501_000, 10, 0),
      signalId('b', 'paper', 256265, 1_704_100_501_000, 10, 0),
      signalId('b', 'zerodha', 256265, 1_704_100_501_000, 10, 1),
      signalId('b', 'paper', 256265, 1_704_100_501_000, 10, 1),
    ]);
  });

  it('the same config and ticks give byte-identical results in another runtime', async () => {
    const run = async (): Promise<string> => {
      const h = await initialised();
      await start(h, 0, { id: 'det', brokers: ['x', 'y'] });
      return JSON.stringify(h.rt.processBatch(batch([tick(1, 'buy'), tick(2, 'two'), tick(3, 'sell-reason')], [0])));
    };
    expect(await run()).toBe(await run());
  });

  it('uses the strategy parameters (quantity) through create()', async () => {
    const h = await initialised();
    await start(h, 0, { id: 'q', parameters: { quantity: 5 } });
    const res = h.rt.processBatch(batch([tick(100, 'buy')], [0]));
    expect(res.signals.map((s) => s.signal.quantity)).toEqual([5]);
  });

  it('a throwing strategy becomes STRATEGY_TICK_FAILED data; the other slot and later ticks go on', async () => {
    const h = await initialised();
    await start(h, 0, { id: 'a' });
    await start(h, 1, { id: 'b' });
    const res = h.rt.processBatch(batch([tick(100, { a: 'throw', b: 'buy' }), tick(101, { a: 'buy' })], [0, 1]));
    expect(res.errors).toHaveLength(1);
    const e = res.errors[0]!;
    expect(e.i).toBe(0);
    expect(e.slot).toBe(0);
    expect(e.error.code).toBe('STRATEGY_TICK_FAILED');
    expect(e.error.message).toBe("strategy 'a' threw on a tick: boom at 100");
    expect(e.error.details).toEqual({ strategy_id: 'a', hook: 'onTick' });
    expect(res.signals.map((s) => `${s.i}:${s.signal.strategy_id}`)).toEqual(['0:b', '1:a']);
  });

  it('a thrown non-Error is still reported', async () => {
    const h = await initialised();
    await start(h, 0, { id: 'a' });
    const res = h.rt.processBatch(batch([tick(100, 'throw-string')], [0]));
    expect(res.errors[0]!.error.code).toBe('STRATEGY_TICK_FAILED');
    expect(res.errors[0]!.error.message).toContain('a string');
  });

  it('an invalid intent is STRATEGY_OUTPUT_INVALID naming the output index', async () => {
    const h = await initialised();
    await start(h, 0, { id: 'a' });
    const res = h.rt.processBatch(batch([tick(100, 'bad-side')], [0]));
    expect(res.signals).toEqual([]);
    expect(res.errors).toHaveLength(1);
    expect(res.errors[0]!.error.code).toBe('STRATEGY_OUTPUT_INVALID');
    expect(res.errors[0]!.error.message).toBe(`strategy 'a': onTick output #0 is invalid: side must be "BUY" or "SELL", got "HOLD"`);
  });

  it('one invalid intent discards the valid ones of the same onTick call', async () => {
    const h = await initialised();
    await start(h, 0, { id: 'a' });
    const res = h.rt.processBatch(batch([tick(100, 'bad-second'), tick(101, 'buy')], [0]));
    expect(res.errors.map((e) => [e.i, e.error.code])).toEqual([[0, 'STRATEGY_OUTPUT_INVALID']]);
    expect(res.errors[0]!.error.message).toContain('output #1');
    expect(res.signals.map((s) => s.i)).toEqual([1]);
    expect((await slotHealth(h, 0)).signalsOut).toBe(1);
  });

  it('a Promise returned from onTick is STRATEGY_OUTPUT_INVALID', async () => {
    const h = await initialised();
    await start(h, 0, { id: 'async' });
    const res = h.rt.processBatch(batch([tick(100, 'promise')], [0]));
    expect(res.signals).toEqual([]);
    expect(res.errors.map((e) => e.error.code)).toEqual(['STRATEGY_OUTPUT_INVALID']);
    expect(res.errors[0]!.error.message).toContain('Promise');
  });

  // BUG: intentsOf() throws on a returned Promise but never attaches a handler to it. If the
  // promise rejects (an async onTick that throws), the rejection is unhandled: in a worker thread
  // that ends the thread, taking every other strategy on it down.
  it('a rejecting Promise from onTick is reported without an unhandled rejection', async () => {
    const h = await initialised();
    await start(h, 0, { id: 'async' });
    let codes: string[] = [];
    const unhandled = await collectProcessErrors('unhandledRejection', async () => {
      const res = h.rt.processBatch(batch([tick(100, 'rejected-promise')], [0]));
      codes = res.errors.map((e) => e.error.code);
      await settle();
    });
    expect(codes).toEqual(['STRATEGY_OUTPUT_INVALID']);
    expect(unhandled).toEqual([]);
  });

  it('null, undefined and [] produce no signals and no errors', async () => {
    const h = await initialised();
    await start(h, 0, { id: 'a' });
    const res = h.rt.processBatch(batch([tick(1, 'null'), tick(2), tick(3, 'empty')], [0]));
    expect(res).toEqual({ t: 'result', batch: 1, signals: [], errors: [] });
  });

  it('ticks are frozen: a strategy cannot change what the next slot sees', async () => {
    const h = await initialised();
    await start(h, 0, { id: 'a' });
    await start(h, 1, { id: 'b' });
    const res = h.rt.processBatch(batch([tick(100, { a: 'mutate', b: 'buy' })], [0, 1]));
    expect(res.errors.map((e) => [e.slot, e.error.code])).toEqual([[0, 'STRATEGY_TICK_FAILED']]);
    expect(res.signals.map((s) => s.signal.price)).toEqual([100]);
  });

  it('routes to an unknown slot are skipped', async () => {
    const h = await initialised();
    await start(h, 0, { id: 'a' });
    const res = h.rt.processBatch({ t: 'ticks', batch: 1, ticks: [tick(1, 'buy'), tick(2, 'buy')], routes: [2, 42, 0, 1, 43] });
    expect(res.signals.map((s) => s.i)).toEqual([0]);
    expect(res.errors).toEqual([]);
  });

  it('a stopped slot receives no ticks and leaves health()', async () => {
    const h = await initialised();
    await start(h, 0, { id: 'a' });
    await start(h, 1, { id: 'b' });
    expect(await h.rt.stopStrategy(0)).toEqual({ ok: true, value: undefined });
    expect(events()).toContain('stop a');
    const res = h.rt.processBatch(batch([tick(1, 'buy'), tick(2, 'throw')], [0, 1]));
    expect(res.signals.map((s) => s.signal.strategy_id)).toEqual(['b']);
    expect(res.errors.map((e) => e.slot)).toEqual([1]);
    expect((await h.rt.health()).slots.map((s) => s.slot)).toEqual([1]);
  });

  it('stopStrategy on an unknown slot is ok; an onStop that throws still frees the slot', async () => {
    const h = await initialised();
    expect(await h.rt.stopStrategy(99)).toEqual({ ok: true, value: undefined });
    await start(h, 0, { id: 'st', strategy_type: 'StopThrows' });
    expect(await h.rt.stopStrategy(0)).toEqual({ ok: true, value: undefined });
    expect((await h.rt.health()).slots).toEqual([]);
  });
});

// ------------------------------------------------------------------ health

describe('ThreadRuntime.health', () => {
  it('counts ticks in, signals out, errors; consecutiveErrors resets on a success', async () => {
    const h = await initialised();
    await start(h, 0, { id: 'a', brokers: ['x', 'y'] });
    h.rt.processBatch(batch([tick(1, 'buy'), tick(2, 'throw'), tick(3, 'bad-side')], [0], 1));
    let s = await slotHealth(h, 0);
    expect(s.ticksIn).toBe(3);
    expect(s.signalsOut).toBe(2); // one intent × two brokers
    expect(s.errors).toBe(2);
    expect(s.consecutiveErrors).toBe(2);
    expect(s.lastError?.code).toBe('STRATEGY_OUTPUT_INVALID');
    expect(s.latencyUs.count).toBe(3);

    h.rt.processBatch(batch([tick(4), tick(5, 'two')], [0], 2));
    s = await slotHealth(h, 0);
    expect(s.ticksIn).toBe(5);
    expect(s.signalsOut).toBe(6); // + two intents × two brokers
    expect(s.errors).toBe(2);
    expect(s.consecutiveErrors).toBe(0);
    expect(s.lastError?.code).toBe('STRATEGY_OUTPUT_INVALID'); // kept for diagnosis
    expect(s.latencyUs.count).toBe(5);
    expect(s.latencyUs.max).toBeGreaterThanOrEqual(s.latencyUs.p50);

    const th = await h.rt.health();
    expect(th.batches).toBe(2);
    expect(th.heapUsed).toBeGreaterThan(0);
    expect(th.heapTotal).toBeGreaterThanOrEqual(th.heapUsed);
  });

  it('counts only the ticks routed to each slot', async () => {
    const h = await initialised();
    await start(h, 0, { id: 'a' });
    await start(h, 1, { id: 'b' });
    h.rt.processBatch({ t: 'ticks', batch: 1, ticks: [tick(1), tick(2), tick(3)], routes: [2, 0, 1, 1, 1, 1, 1] });
    expect((await slotHealth(h, 0)).ticksIn).toBe(1);
    expect((await slotHealth(h, 1)).ticksIn).toBe(3);
  });
});

// ------------------------------------------------------------------ data port

describe('ThreadRuntime data port', () => {
  it('answers a ticks message (on the wire: encoded as columns) with a result message', async () => {
    const h = await initialised();
    await start(h, 0, { id: 'a' });
    const b = batch([tick(1, 'buy')], [0], 17);
    const enc = encodeTickBatch(b.ticks, b.routes);
    h.port.postMessage({ t: 'ticks', batch: b.batch, ...enc });
    const r = await nextOutput(h, 'result');
    expect(r.batch).toBe(17);
    expect((r as BatchResultMessage).signals.map((s) => s.signal.strategy_id)).toEqual(['a']);
  });

  it('applies a fill: onFill sees the new portfolio, so does the next onTick, fill-result comes back', async () => {
    const h = await initialised();
    await start(h, 0, { id: 'a' });
    const fill: Fill = { fill_id: 'f1', strategy_id: 'a', instrument_token: 256265, side: 'BUY', quantity: 2, price: 100, timestamp: 1 };
    const portfolio = applyFill(emptyPortfolio(1000), fill); // cash 1000 − 2 × 100 = 800
    h.port.postMessage({ t: 'fill', slot: 0, fill, portfolio });
    const fr = await nextOutput(h, 'fill-result');
    expect(fr).toEqual({ t: 'fill-result', slot: 0, fillId: 'f1' });
    expect(events()).toContain('fill a f1 cash=800');
    const res = h.rt.processBatch(batch([tick(1, 'cash')], [0]));
    expect(res.signals[0]!.signal.reason).toBe('cash=800 fills=1');
    expect((await slotHealth(h, 0)).fillsApplied).toBe(1);
  });

  it('an onFill that throws comes back as STRATEGY_FILL_FAILED and is counted', async () => {
    const h = await initialised();
    await start(h, 0, { id: 'a' });
    const fill: Fill = { fill_id: 'explode', strategy_id: 'a', instrument_token: 256265, side: 'SELL', quantity: 1, price: 50, timestamp: 1 };
    h.port.postMessage({ t: 'fill', slot: 0, fill, portfolio: applyFill(emptyPortfolio(0), fill) });
    const fr = await nextOutput(h, 'fill-result');
    expect(fr.fillId).toBe('explode');
    expect(fr.error?.code).toBe('STRATEGY_FILL_FAILED');
    expect(fr.error?.message).toContain('onFill exploded');
    expect(fr.error?.details).toEqual({ strategy_id: 'a', fill_id: 'explode' });
    const s = await slotHealth(h, 0);
    expect(s.errors).toBe(1);
    expect(s.fillsApplied).toBe(1);
    // the portfolio was still swapped
    expect(h.rt.processBatch(batch([tick(1, 'cash')], [0])).signals[0]!.signal.reason).toBe('cash=50 fills=1');
  });

  it('a fill for an unknown slot is acknowledged without an error', async () => {
    const h = await initialised();
    const fill: Fill = { fill_id: 'f9', strategy_id: 'z', instrument_token: 1, side: 'BUY', quantity: 1, price: 1, timestamp: 1 };
    h.port.postMessage({ t: 'fill', slot: 5, fill, portfolio: emptyPortfolio(0) });
    expect(await nextOutput(h, 'fill-result')).toEqual({ t: 'fill-result', slot: 5, fillId: 'f9' });
  });
});

// ------------------------------------------------------------------ shutdown

describe('ThreadRuntime.shutdown', () => {
  it('runs onStop of every strategy, closes the data port and resolves finished', async () => {
    const h = await initialised({ heartbeatIntervalMs: 10_000 });
    await start(h, 0, { id: 'a' });
    await start(h, 1, { id: 'b' });
    let finished = false;
    void h.rt.finished.then(() => (finished = true));
    const closed = new Promise<void>((resolve) => h.port.once('close', () => resolve()));
    await settle(5);
    expect(finished).toBe(false);
    await h.rt.shutdown();
    await h.rt.finished;
    await closed;
    expect(finished).toBe(true);
    expect(events().filter((e) => e.startsWith('stop'))).toEqual(['stop a', 'stop b']);
    expect((await h.rt.health()).slots).toEqual([]);
  });
});

// ------------------------------------------------------------------ event-time supervision (replay)

describe('ThreadRuntime with event-time supervision', () => {
  const supervision = (over: Partial<NonNullable<InitRequest['eventTimeSupervision']>['restart']> = {}): Partial<InitRequest> => ({
    eventTimeSupervision: { maxConsecutiveErrors: 2, restart: { initialDelayMs: 1000, maxDelayMs: 8000, intensity: 5, windowMs: 60_000, ...over }, rewarmTicks: 16, hookTimeoutMs: 2000 },
  });
  const T = 1_704_100_500_000;
  const post = (h: Harness, b: { batch: number; ticks: Tick[]; routes: number[] }): void => h.port.postMessage({ t: 'ticks', batch: b.batch, ...encodeTickBatch(b.ticks, b.routes) });
  const results = async (h: Harness, n: number): Promise<BatchResultMessage[]> => {
    for (let i = 0; i < 400 && h.outputs.filter((o) => o.t === 'result').length < n; i++) await settle(5);
    return h.outputs.filter((o): o is BatchResultMessage => o.t === 'result');
  };

  it('retires a strategy at its Nth error in a row, skips its ticks for the back-off (event time), restarts it in place for the first tick past it, waiting for its async onStart with the messages behind it in order', async () => {
    const h = await initialised(supervision());
    await start(h, 0, { id: 'a' });
    events().length = 0;
    post(h, batch([tick(1, 'throw', T), tick(2, 'throw', T + 100), tick(3, 'buy', T + 200), tick(4, 'buy', T + 1100), tick(5, 'buy', T + 1200)], [0], 1));
    // Behind it, while its restart waits for onStart: a fill and another batch, handled after it, in order.
    const fill: Fill = { fill_id: 'f1', strategy_id: 'a', instrument_token: 256265, side: 'BUY', quantity: 1, price: 10, timestamp: T };
    h.port.postMessage({ t: 'fill', slot: 0, fill, portfolio: applyFill(emptyPortfolio(0), fill) });
    post(h, batch([tick(6, 'cash', T + 1300)], [0], 2));
    const [first, second] = await results(h, 2);
    expect(first!.batch).toBe(1);
    expect(first!.errors.map((e) => e.i)).toEqual([0, 1]);
    expect(first!.supervision).toEqual([
      { slot: 0, i: 1, kind: 'retired', reason: expect.stringMatching(/^2 consecutive errors, last: \[STRATEGY_TICK_FAILED\]/), resumeAt: T + 1100, delayMs: 1000, restarts: 0 },
      { slot: 0, i: 3, kind: 'restarted', reason: 're-warmed from 3 ticks', restarts: 1 },
    ]);
    expect(first!.missed).toEqual([[0, 1]]);
    expect(first!.signals.map((s) => s.i)).toEqual([3, 4]);
    expect(second!.batch).toBe(2);
    expect(second!.signals.map((s) => s.signal.reason)).toEqual(['cash=-10 fills=1']);
    expect(events()).toEqual(['stop a', 'create a', 'start a', 'fill a f1 cash=-10']);
    expect((await slotHealth(h, 0)).state).toBe('running');
  });

  it('quarantines a strategy restarted more often than the intensity allows within its window of event time; it then misses every tick', async () => {
    const h = await initialised(supervision({ intensity: 1, initialDelayMs: 0 }));
    await start(h, 0, { id: 'a' });
    post(h, batch([tick(1, 'throw', T), tick(2, 'throw', T + 1), tick(3, 'throw', T + 2), tick(4, 'throw', T + 3), tick(5, 'buy', T + 4)], [0], 1));
    const [r] = await results(h, 1);
    expect(r!.supervision!.map((e) => `${e.kind}@${e.i}`)).toEqual(['retired@1', 'restarted@2', 'quarantined@3']);
    expect(r!.supervision![2]!.reason).toMatch(/^1 restarts within 60000 ms of event time; last: 2 consecutive errors/);
    expect(r!.missed).toEqual([[0, 1]]);
    expect(r!.signals).toEqual([]);
    expect((await slotHealth(h, 0)).state).toBe('down');
  });

  it('a restart whose onStart throws counts as a restart and backs off again, by event time', async () => {
    const h = await initialised({ ...supervision({ initialDelayMs: 10 }), modules: [FIXTURE, fileURLToPath(new URL('./fixtures/flaky-start.mjs', import.meta.url))] });
    await start(h, 0, { id: 'flaky', strategy_type: 'FlakyStart' });
    const r = h.rt.processBatch(batch([tick(1, 'throw', T), tick(2, 'throw', T + 1), tick(3, 'buy', T + 11), tick(4, 'buy', T + 20), tick(5, 'buy', T + 31)], [0], 1));
    expect(r.supervision).toEqual([
      expect.objectContaining({ i: 1, kind: 'retired', resumeAt: T + 11, delayMs: 10, restarts: 0 }),
      expect.objectContaining({ i: 2, kind: 'retired', reason: expect.stringMatching(/^restart failed: \[STRATEGY_START_FAILED\] strategy 'flaky' failed to start: vendor unreachable on restart/), resumeAt: T + 31, delayMs: 20, restarts: 1 }),
      expect.objectContaining({ i: 4, kind: 'restarted', restarts: 2 }),
    ]);
    expect(r.missed).toEqual([[0, 2]]);
    expect(r.signals.map((s) => s.i)).toEqual([4]);
  });
});
