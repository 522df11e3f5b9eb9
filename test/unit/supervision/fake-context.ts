import { PortfolioBook } from '../../../src/domain/portfolio-book.js';
import { Lifecycle } from '../../../src/lifecycle/lifecycle.js';
import { SUPERVISOR_TRANSITIONS, type SupervisorState } from '../../../src/supervision/states.js';
import { StrategyTable } from '../../../src/supervision/strategy-table.js';
import { compileSupervision, type SupervisionInput, type SupervisorOptions } from '../../../src/supervision/supervision-options.js';
import { newTotals, type SupervisorContext } from '../../../src/supervision/supervisor-context.js';
import { TickHistory } from '../../../src/supervision/tick-history.js';
import { memoryLogger } from '../../helpers/runtime.js';

/** A running supervisor's context with no threads behind it (for the parts' unit tests). */
export function fakeContext(supervision: SupervisionInput = {}, options: Partial<SupervisorOptions> = {}): SupervisorContext & { lines: Record<string, unknown>[]; rebuilds: number } {
  const { logger, lines } = memoryLogger();
  const sup = compileSupervision(supervision);
  const life = new Lifecycle<SupervisorState>('supervisor', 'created', SUPERVISOR_TRANSITIONS);
  life.to('starting');
  life.to('running');
  const ctx = {
    options: { logger, ...options } as SupervisorOptions,
    sup,
    log: logger,
    eventTime: options.clock === 'event',
    life,
    strategies: new StrategyTable(logger),
    book: new PortfolioBook(0),
    history: new TickHistory(sup.rewarmTicks),
    totals: newTotals(),
    lines,
    rebuilds: 0,
    rebuildRoutes: () => {
      ctx.rebuilds++;
    },
  };
  return ctx;
}
