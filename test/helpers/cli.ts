import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The compiled CLI (test/global-setup.ts builds it). */
export const CLI = join(ROOT, 'dist/src/cli/main.js');

export interface CliResult {
  stdout: string;
  stderr: string;
  /** the exit code (0 when it succeeded) */
  code: number;
}

export interface CliOptions {
  /** default: the repository's root */
  cwd?: string;
  /** with no broker, database or configuration from the environment (a test's own) */
  isolated?: boolean;
  timeoutMs?: number;
}

/** Run the compiled CLI to its end; never throws for a non-zero exit (the code is in the result). */
export async function runCli(args: readonly string[], o: CliOptions = {}): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = o.isolated === true ? { ...process.env, KAFKA_BROKERS: '', DATABASE_URL: '', STRATEGY_RUNNER_CONFIG: '' } : process.env;
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], { cwd: o.cwd ?? ROOT, env, maxBuffer: 64 << 20, ...(o.timeoutMs === undefined ? {} : { timeout: o.timeoutMs }) });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}
