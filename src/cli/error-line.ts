import type { RunnerError } from '../errors.js';

/**
 * How a command's fatal error reads on a terminal: one line,
 * `strategy-runner COMMAND: [CODE] message`. The message already says what
 * and where (a cause's text is part of it); a newline in it would break the
 * one line, so it is folded.
 */
export function errorLine(command: string, err: RunnerError): string {
  return `strategy-runner ${command}: [${err.code}] ${err.message.replace(/\s*\n\s*/g, ' ')}`;
}
