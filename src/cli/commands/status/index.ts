import { parseArgs } from 'node:util';
import { holdProcess } from '../../../async/hold-process.js';
import { sleep } from '../../../timing/sleep.js';
import { fetchStatus } from './client.js';
import { baseUrl, positiveSeconds } from './model.js';
import { formatStatus } from './render.js';

export const STATUS_USAGE = `Usage: strategy-runner status [--url URL | --port N | --config FILE] [options]

Shows the status endpoint of a running strategy-runner as tables: the
service, its threads, its strategies (counters, latency, positions),
rejected strategies, and the Kafka consumer and producer when present.

Options:
  --url URL        base address of the status server (e.g. http://127.0.0.1:9464)
  --port N         status server on 127.0.0.1:N
  --config FILE    service configuration (JSON): status.host and status.port
  --json           print the /status document as JSON
  --watch S        refresh every S seconds until interrupted
  --timeout S      give up on a request after S seconds (default: 5)
  -h, --help       this help
`;

export interface StatusOptions {
  /** ends --watch (for callers in the same process; SIGINT/SIGTERM do the same) */
  signal?: AbortSignal;
}

export async function statusCommand(argv: string[], opts: StatusOptions = {}): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' },
      port: { type: 'string' },
      config: { type: 'string' },
      json: { type: 'boolean', default: false },
      watch: { type: 'string' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(STATUS_USAGE);
    return 0;
  }
  const watch = positiveSeconds('watch', values.watch);
  const timeoutMs = (positiveSeconds('timeout', values.timeout) ?? 5) * 1000;
  const base = baseUrl(values);

  if (watch === undefined) {
    const r = await fetchStatus(base, timeoutMs);
    if (!r.ok) {
      process.stderr.write(`strategy-runner status: ${r.error}\n`);
      return 1;
    }
    process.stdout.write(values.json ? JSON.stringify(r.status, null, 2) + '\n' : formatStatus(r.status, { ready: r.ready, url: base }));
    return 0;
  }

  // --watch: redraw until interrupted; an unreachable endpoint is shown and retried.
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const onAbort = (): void => stop.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted === true) stop.abort();
  const clear = process.stdout.isTTY === true ? '\x1b[2J\x1b[H' : '\n';
  const release = holdProcess();
  try {
    while (!stop.signal.aborted) {
      const r = await fetchStatus(base, timeoutMs);
      const head = `every ${watch} s, ${new Date().toISOString()} (Ctrl-C to stop)\n\n`;
      const body = !r.ok
        ? `strategy-runner status: ${r.error}\n`
        : values.json
          ? JSON.stringify(r.status, null, 2) + '\n'
          : formatStatus(r.status, { ready: r.ready, url: base });
      if (stop.signal.aborted) break;
      process.stdout.write(clear + head + body);
      await sleep(watch * 1000, stop.signal);
    }
  } finally {
    release();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    opts.signal?.removeEventListener('abort', onAbort);
  }
  return 0;
}
