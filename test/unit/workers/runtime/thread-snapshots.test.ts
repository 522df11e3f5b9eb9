import { describe, it, expect, afterEach } from 'vitest';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { ThreadRuntime } from '../../../../workers/runtime/thread-runtime.js';
import { PROTOCOL_VERSION, type BatchResultMessage, type DataOutput, type SavedMessage } from '../../../../src/protocol/messages.js';
import { encodeTickBatch } from '../../../../src/protocol/tick-batch-codec.js';
import { parseStrategyConfigs } from '../../../../src/config/strategy-config.js';
import { emptyPortfolio } from '../../../../src/domain/portfolio.js';
import type { Tick } from '../../../../src/domain/tick.js';

const MODULE = fileURLToPath(new URL('../../../fixtures/strategies/long-memory.mjs', import.meta.url));
const ports: MessagePort[] = [];
afterEach(() => {
  for (const p of ports.splice(0)) p.close();
});

async function runtime() {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  const rt = new ThreadRuntime(port1);
  const outputs: DataOutput[] = [];
  port2.on('message', (m: DataOutput) => outputs.push(m));
  const r = await rt.init({ protocolVersion: PROTOCOL_VERSION, threadIndex: 0, modules: [MODULE], baseDir: process.cwd(), logLevel: 'silent', heartbeatIntervalMs: 0 });
  if (!r.ok) throw new Error(r.error.message);
  const next = async <T extends DataOutput['t']>(t: T): Promise<Extract<DataOutput, { t: T }>> => {
    for (let i = 0; i < 200; i++) {
      const k = outputs.findIndex((o) => o.t === t);
      if (k >= 0) return outputs.splice(k, 1)[0] as Extract<DataOutput, { t: T }>;
      await new Promise((res) => setTimeout(res, 5));
    }
    throw new Error(`no ${t} message`);
  };
  return { rt, port: port2, next };
}

const cfg = parseStrategyConfigs([{ id: 'lm', strategy_type: 'LongMemory', instruments: [7], parameters: { band: 0.01 } }], 'test').configs[0]!;
const ticks = (prices: number[], from = 0): Tick[] => prices.map((p, i) => ({ instrument_token: 7, last_price: p, timestamp: 1_700_000_000_000 + (from + i) * 400, volume: 1 }));
const PRICES = [100, 100, 100, 103, 103, 97, 96, 100, 104, 99, 95];
const routes = (n: number): number[] => Array.from({ length: n }, () => [1, 0]).flat();

describe('snapshots in a strategy thread', () => {
  it("'save' answers after the batches before it; a strategy started from that snapshot goes on exactly as the original", async () => {
    const a = await runtime();
    expect((await a.rt.startStrategy({ slot: 0, config: cfg, portfolio: emptyPortfolio(0) })).ok).toBe(true);
    const first = ticks(PRICES.slice(0, 6));
    a.port.postMessage({ t: 'ticks', batch: 1, ...encodeTickBatch(first, routes(first.length)) });
    a.port.postMessage({ t: 'save', id: 9 });
    const rest = ticks(PRICES.slice(6), 6);
    a.port.postMessage({ t: 'ticks', batch: 2, ...encodeTickBatch(rest, routes(rest.length)) });
    await a.next('result');
    const saved: SavedMessage = await a.next('saved');
    const whole = (await a.next('result')) as BatchResultMessage;
    expect(saved.id).toBe(9);
    expect(saved.states).toHaveLength(1);
    expect(saved.states[0]).toMatchObject({ slot: 0, strategyId: 'lm', instruments: { '7': [first.at(-1)!.timestamp, 1] } });

    const b = await runtime();
    const r = await b.rt.startStrategy({ slot: 3, config: cfg, portfolio: emptyPortfolio(0), snapshot: saved.states[0]!.state! });
    expect(r).toEqual({ ok: true, value: 'loaded' });
    // From two ticks before the cut: those are skipped, the rest gives what the original gave.
    const again = [...first.slice(-2), ...rest];
    b.port.postMessage({ t: 'ticks', batch: 1, ...encodeTickBatch(again, Array.from({ length: again.length }, () => [1, 3]).flat()) });
    const resumed = (await b.next('result')) as BatchResultMessage;
    expect(resumed.signals.map((s) => JSON.stringify(s.signal))).toEqual(whole.signals.map((s) => JSON.stringify(s.signal)));
    expect(whole.signals.length).toBeGreaterThan(0);
  });

  it('a snapshot the strategy cannot take is discarded with the reason, and the strategy starts afresh', async () => {
    const a = await runtime();
    const r = await a.rt.startStrategy({ slot: 0, config: cfg, portfolio: emptyPortfolio(0), snapshot: '{"strategy":[["x"]],"runtime":{"clock":1,"instruments":"nope"}}' });
    expect(r.ok).toBe(true);
    expect(r.ok && typeof r.value === 'object' && r.value.discarded).toMatch(/runtime part of the snapshot is malformed/);
    const h = await a.rt.health();
    expect(h.slots[0]!.state).toBe('running');
  });
});
