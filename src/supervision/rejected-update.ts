import type { SerializedError } from '../errors.js';
import type { ReloadReport } from './reports.js';
import type { StrategyEntry } from './strategy-entry.js';
import type { SupervisorContext } from './supervisor-context.js';

/** Record an update that cannot be applied (once per distinct update): logged, counted, shown in the status. */
export function rejectUpdate(
  ctx: Pick<SupervisorContext, 'log' | 'totals'>,
  e: StrategyEntry,
  error: SerializedError,
  fields: readonly string[],
  json: string,
  report?: ReloadReport,
): void {
  if (e.rejectedUpdate?.json === json) return; // read again (a periodic reload): already reported
  e.rejectedUpdate = { code: error.code, error: error.message, fields, json };
  e.rejectedUpdates++;
  ctx.totals.rejectedUpdates++;
  report?.rejected.push(e.config.id);
  ctx.log.error(
    { strategy_id: e.config.id, code: error.code, err: error.message, fields, state: e.state },
    'strategy configuration update rejected: the running version keeps running',
  );
}
