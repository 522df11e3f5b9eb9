import { z } from 'zod';
import { RunnerError } from '../errors.js';
import { describeIssues, formatIssueList } from './unknown-keys.js';

/** Broker names become topic names (`{broker}.signals.raw`), so they are restricted to topic-safe characters. */
export const BROKER_NAME = /^[A-Za-z0-9_-]+$/;

/**
 * One strategy configuration: the same object as a `strategy_configurations`
 * row of the seeds, whether it comes from PostgreSQL or a strategies.json file.
 */
export const StrategyConfigSchema = z.object({
  id: z.string().min(1).max(200),
  strategy_type: z.string().min(1),
  instruments: z.array(z.number().int().nonnegative()).min(1, 'at least one instrument token is required'),
  parameters: z.record(z.string(), z.unknown()).default({}),
  is_active: z.boolean().default(true),
  brokers: z
    .array(z.string().regex(BROKER_NAME, 'broker names may hold only letters, digits, _ and -'))
    .min(1)
    .default(['paper']),
})
  // A misspelled key ("paramters") is a mistake to report, not a key to drop: the
  // strategy would start on its defaults. A new field is one more line above.
  .strict();
export type StrategyConfig = z.output<typeof StrategyConfigSchema>;
export type StrategyConfigInput = z.input<typeof StrategyConfigSchema>;

export interface ParsedConfigs {
  /** valid configurations, active or not, in source order */
  configs: StrategyConfig[];
  /** one error per rejected entry; the others are unaffected */
  errors: RunnerError[];
}

/**
 * Validate a list of configuration objects one by one. A bad entry is
 * reported (with its id when it has one, else its position in `source`) and
 * skipped; it never prevents the others from loading. Duplicate ids: the
 * first wins and the later ones are rejected.
 */
export function parseStrategyConfigs(entries: readonly unknown[], source: string): ParsedConfigs {
  const configs: StrategyConfig[] = [];
  const errors: RunnerError[] = [];
  const seen = new Set<string>();
  entries.forEach((entry, index) => {
    const id = typeof entry === 'object' && entry !== null && typeof (entry as { id?: unknown }).id === 'string'
      ? (entry as { id: string }).id
      : undefined;
    const where = id === undefined ? `${source} entry #${index}` : `strategy '${id}' (${source} entry #${index})`;
    const r = StrategyConfigSchema.safeParse(entry);
    if (!r.success) {
      const issues = describeIssues(StrategyConfigSchema, entry, r.error);
      errors.push(new RunnerError('STRATEGY_CONFIG_INVALID', `${where}: ${formatIssueList(issues)}`, {
        details: { strategy_id: id, source, index, issues },
      }));
      return;
    }
    if (seen.has(r.data.id)) {
      errors.push(new RunnerError('STRATEGY_DUPLICATE_ID', `${where}: id '${r.data.id}' is already used by an earlier entry; this one is skipped`, {
        details: { strategy_id: r.data.id, source, index },
      }));
      return;
    }
    seen.add(r.data.id);
    configs.push(r.data);
  });
  return { configs, errors };
}
