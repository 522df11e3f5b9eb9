import { z } from 'zod';
import { SideSchema } from './side.js';
import { TIMESTAMP_RULE, toEpochMs } from './timestamp.js';
import { formatIssues } from './tick.js';

/** An order fill as it arrives on the wire (`orders.filled`, a fills file). */
export const FillWireSchema = z.object({
  fill_id: z.string().min(1),
  order_id: z.string().min(1).optional(),
  strategy_id: z.string().min(1),
  instrument_token: z.number().int().nonnegative(),
  side: SideSchema,
  quantity: z.number().positive().finite(),
  price: z.number().positive().finite(),
  timestamp: z
    .union([z.number(), z.string()])
    .transform((v, ctx) => {
      const ms = toEpochMs(v);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `timestamp must be ${TIMESTAMP_RULE}` });
        return z.NEVER;
      }
      return ms;
    }),
  broker: z.string().min(1).optional(),
  /** commission charged for this fill, in cash (a backtest's simulated fee; 0 when absent) */
  fee: z.number().nonnegative().finite().optional(),
});

/** A decoded fill (timestamp in epoch ms). */
export type Fill = z.output<typeof FillWireSchema>;

export type FillDecodeResult = { ok: true; fill: Fill } | { ok: false; reason: string };

/** Fills sorted by timestamp, file or decision order kept among equal ones (the order they take effect in). */
export function inTimeOrder(fills: readonly Fill[]): Fill[] {
  // Array.prototype.sort is stable.
  return [...fills].sort((a, b) => a.timestamp - b.timestamp);
}

/** Fills are rare (one per execution), so the zod schema is the decoder. */
export function decodeFillValue(value: unknown): FillDecodeResult {
  const r = FillWireSchema.safeParse(value);
  return r.success ? { ok: true, fill: r.data } : { ok: false, reason: formatIssues(r.error) };
}

export function decodeFill(text: string): FillDecodeResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `not valid JSON: ${(err as Error).message}` };
  }
  return decodeFillValue(value);
}
