import { createRequire } from 'node:module';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerSetup {
  level: LogLevel;
  /** file descriptor for the log stream: 1 (stdout, the service default) or 2 (stderr, for commands that print results on stdout) */
  fd: 1 | 2;
  /** 'auto' pretty-prints on a terminal when pino-pretty is installed; 'json' always JSON. */
  format?: 'auto' | 'json' | 'pretty';
}

const baseOptions: LoggerOptions = {
  base: { service: 'strategy-runner', pid: process.pid },
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label) => ({ level: label }) },
};

/** The main thread's root logger. */
export function createLogger(setup: LoggerSetup): Logger {
  const stream = destinationFor(setup);
  return pino({ ...baseOptions, level: setup.level }, stream);
}

function destinationFor(setup: LoggerSetup): DestinationStream {
  const tty = setup.fd === 1 ? process.stdout.isTTY : process.stderr.isTTY;
  const wantPretty = setup.format === 'pretty' || (setup.format !== 'json' && tty === true);
  if (wantPretty) {
    const pretty = loadPretty();
    if (pretty !== undefined) return pretty({ destination: setup.fd, colorize: tty === true, sync: true });
  }
  return pino.destination({ fd: setup.fd, sync: false });
}

type PrettyFactory = (opts: { destination: number; colorize: boolean; sync: boolean }) => DestinationStream;

/** pino-pretty is optional: used on a terminal when present, never required. */
function loadPretty(): PrettyFactory | undefined {
  try {
    const req = createRequire(import.meta.url);
    const mod = req('pino-pretty') as PrettyFactory | { default: PrettyFactory };
    return typeof mod === 'function' ? mod : mod.default;
  } catch {
    return undefined;
  }
}

/**
 * A logger for code inside a worker thread: each line is handed to `send`
 * (which posts it to the main thread, where it joins the main log stream).
 * Keeps worker logs ordered and off a worker's own stdout, which Node relays
 * through the main thread anyway and which has no fd in a worker.
 */
export function createThreadLogger(level: string, send: (line: string) => void, bindings: Record<string, unknown>): Logger {
  return pino({ ...baseOptions, level }, { write: send }).child(bindings);
}

/** The destination a pino logger writes to: worker log lines relayed to the main thread join it unchanged. */
export function logWriterOf(logger: Logger): (line: string) => void {
  const stream = (logger as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym];
  if (stream === undefined) return (line) => process.stderr.write(line);
  return (line) => stream.write(line);
}
