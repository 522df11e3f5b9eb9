import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Sql } from 'postgres';
import type { ServiceConfig } from '../config/service-config.js';
import type { ParsedConfigs } from '../config/strategy-config.js';
import { RunnerError } from '../errors.js';
import type { ConfigSource } from '../ports.js';
import { Backoff } from '../timing/backoff.js';
import { sleep } from '../timing/sleep.js';
import { writeConfigCache } from '../transport/files/config-cache.js';
import { FileConfigSource } from '../transport/files/file-config-source.js';
import { FileConfigWatcher } from '../transport/files/file-config-watcher.js';
import { ConfigChangeListener } from '../transport/postgres/config-listener.js';
import { connectPostgres, postgresError, probe, redactUrl } from '../transport/postgres/connect.js';
import { PostgresConfigSource } from '../transport/postgres/postgres-config-source.js';
import type { ConfigWatchStatus } from '../status/status-document.js';
export type { ConfigWatchStatus } from '../status/status-document.js';

/** What a running service does with configurations re-read while it runs. */
export type ApplyConfigs = (parsed: ParsedConfigs, reason: string) => Promise<void>;


export interface StrategyConfigLoadingOptions {
  config: ServiceConfig;
  logger: Logger;
  /** aborts when the service is asked to stop: the start-up retry gives up */
  signal: AbortSignal;
  /** what the start waits for (undefined: nothing any more), for /readyz */
  waitingFor: (reason: string | undefined) => void;
}

/**
 * Where a live service's strategy configurations come from: PostgreSQL (with
 * a cache file and the fallback to it at start) or a strategies file; the
 * first load with its retry, and the watcher that follows changes
 * (ConfigChangeListener or FileConfigWatcher).
 */
export class StrategyConfigLoading {
  readonly #c: ServiceConfig;
  readonly #log: Logger;
  readonly #signal: AbortSignal;
  readonly #waitingFor: (reason: string | undefined) => void;
  /** the database connection, when configurations come from PostgreSQL */
  readonly sql: Sql | undefined;
  readonly source: ConfigSource;
  #watcher: ConfigChangeListener | FileConfigWatcher | undefined;
  #startedFromCache = false;

  /** Opens the source (connecting lazily to PostgreSQL); throws CONFIG_INVALID when PostgreSQL is chosen and no URL is set. */
  constructor(o: StrategyConfigLoadingOptions) {
    this.#c = o.config;
    this.#log = o.logger;
    this.#signal = o.signal;
    this.#waitingFor = o.waitingFor;
    const c = o.config;
    if (c.strategies.source === 'file') {
      this.source = new FileConfigSource(resolve(c.baseDir, c.strategies.file!));
      return;
    }
    const url = c.postgres.url;
    if (url === null) {
      throw new RunnerError('CONFIG_INVALID', 'strategies come from PostgreSQL but no database is configured: set DATABASE_URL or postgres.url (or strategies.source "file")');
    }
    this.sql = connectPostgres({ ...c.postgres, url }, this.#log);
    this.source = new PostgresConfigSource(this.sql);
  }

  get startedFromCache(): boolean {
    return this.#startedFromCache;
  }

  #cachePath(): string | undefined {
    const f = this.#c.strategies.cacheFile;
    return f === null ? undefined : resolve(this.#c.baseDir, f);
  }

  /** Load from the source and keep a copy in the cache file (PostgreSQL only). */
  async load(): Promise<ParsedConfigs> {
    const parsed = await this.source.load();
    const cache = this.#cachePath();
    if (cache !== undefined && this.source instanceof PostgresConfigSource) {
      try {
        writeConfigCache(cache, parsed);
      } catch (err) {
        this.#log.warn({ err, path: cache }, 'could not write the configuration cache file');
      }
    }
    return parsed;
  }

  /**
   * The configurations to start with. PostgreSQL unreachable: retry with
   * back-off (1 s doubling to 30 s), logging each attempt; once
   * fallbackAfterMs has passed and a cache file exists, start from it (the
   * listener switches to the table when it answers again).
   */
  async initial(): Promise<ParsedConfigs> {
    if (!(this.source instanceof PostgresConfigSource)) return this.source.load();
    const t0 = Date.now();
    const cache = this.#cachePath();
    const backoff = new Backoff({ initialMs: 1000, maxMs: 30_000 });
    for (let attempt = 1; ; attempt++) {
      try {
        await probe(this.sql!);
        return await this.load();
      } catch (err) {
        const e = postgresError(err, 'reading strategy configurations');
        if (!e.retryable) throw e;
        const waited = Date.now() - t0;
        const delay = backoff.next();
        this.#waitingFor(`PostgreSQL unreachable since ${new Date(t0).toISOString()}: strategy configurations cannot be read (${attempt} attempts; last: ${(err as Error).message})`);
        this.#log.warn(
          { attempt, waited_ms: waited, retry_in_ms: delay, err: (err as Error).message, database: redactUrl(this.#c.postgres.url ?? '') },
          'PostgreSQL unreachable: strategy configurations cannot be read yet; retrying',
        );
        if (cache !== undefined && waited >= this.#c.strategies.fallbackAfterMs && existsSync(cache)) {
          this.#log.warn({ path: cache }, 'starting from the last known configurations (cache file) until PostgreSQL answers');
          this.#startedFromCache = true;
          return new FileConfigSource(cache).load();
        }
        if (this.#signal.aborted) throw new RunnerError('DATABASE_UNAVAILABLE', `PostgreSQL unreachable and the service is stopping: ${(err as Error).message}`, { cause: err });
        await sleep(delay, this.#signal);
      }
    }
  }

  /** Follow changes (strategies.watch): LISTEN/NOTIFY on PostgreSQL, the file's directory otherwise; a first reload catches what changed since the first load. */
  async watch(apply: ApplyConfigs): Promise<void> {
    if (this.sql !== undefined) {
      const listener = new ConfigChangeListener(this.sql, () => this.load(), apply, {
        logger: this.#log,
        // Started from the cache: re-read often until PostgreSQL answers (the listener also reloads when LISTEN comes back).
        intervalMs: this.#startedFromCache ? Math.min(5000, this.#c.strategies.reloadIntervalMs || 5000) : this.#c.strategies.reloadIntervalMs,
      });
      await listener.start();
      this.#watcher = listener;
      // Anything changed between the first load and LISTEN.
      listener.requestReload('reconnect');
    } else if (this.source instanceof FileConfigSource) {
      // No signal listener of its own: SIGHUP reaches reload() (run installs it), once.
      const watcher = new FileConfigWatcher(this.source.path, apply, { logger: this.#log, signal: null });
      await watcher.start();
      this.#watcher = watcher;
      watcher.requestReload('file-change');
    }
  }

  /** Re-read now (SIGHUP). */
  reload(): void {
    const w = this.#watcher;
    if (w instanceof ConfigChangeListener) w.requestReload('notify');
    else if (w instanceof FileConfigWatcher) w.requestReload('sighup');
    else this.#log.info('reload requested, but configuration watching is off (strategies.watch)');
  }

  /** The watcher's state for /status; null when nothing watches. */
  watchStatus(): ConfigWatchStatus | null {
    const w = this.#watcher;
    if (w === undefined) return null;
    const st = w.stats;
    return {
      kind: w instanceof ConfigChangeListener ? 'postgres' : 'file',
      state: w.state,
      since: new Date(w.stateSince).toISOString(),
      reloads: st.reloads,
      failures: st.failures,
      last_reload_at: st.lastReloadAt,
      last_reload_reason: st.lastReloadReason,
      last_error: st.lastError,
    };
  }

  /** Degradations that do not stop the service from working. */
  warnings(): string[] {
    const out: string[] = [];
    const w = this.#watcher;
    if (w instanceof ConfigChangeListener) {
      const st = w.stats;
      if (st.lastError !== null && (st.lastReloadAt === null || st.lastError.at > st.lastReloadAt)) {
        out.push(`strategy configurations cannot be re-read since ${st.lastError.at} ([${st.lastError.code}] ${st.lastError.message}); running on the configurations it has`);
      }
    }
    if (this.#startedFromCache) out.push('started from the configuration cache file: PostgreSQL did not answer at start');
    return out;
  }

  /** Stop watching (undefined when nothing watches). */
  stopWatching(): Promise<void> | undefined {
    return this.#watcher?.stop();
  }

  /** Close the database connection within `timeoutS` seconds (undefined without one). */
  close(timeoutS: number): Promise<void> | undefined {
    return this.sql?.end({ timeout: timeoutS });
  }
}
