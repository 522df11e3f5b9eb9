import type { Logger } from 'pino';
import { CoalescingRunner } from '../../async/coalescing-runner.js';
import { Lifecycle } from '../../lifecycle/lifecycle.js';
import { watcherTransitions, type WatcherState } from '../watcher-lifecycle.js';
import { Debouncer } from '../../timing/debouncer.js';
import { within } from '../../timing/sleep.js';
import type { ListenMeta, Sql } from 'postgres';
import type { ParsedConfigs } from '../../config/strategy-config.js';
import { serializeError } from '../../errors.js';
import type { ConfigWatcher, ReloadStats } from '../../ports.js';

/** The channel sql/migrations/002_strategy_configurations_notify.sql notifies on. */
export const CONFIG_CHANNEL = 'strategy_configurations_changed';

export type ConfigReloadReason = 'notify' | 'periodic' | 'reconnect';

export interface ConfigChangeListenerOptions {
  logger: Logger;
  /** quiet time after the last notification before reloading (a burst gives one reload); default 200 */
  debounceMs?: number;
  /** a steady stream of notifications still reloads at least this often; default 5 × debounceMs */
  maxDebounceMs?: number;
  /** periodic reload, a safety net for missed notifications; default 60 000; 0 disables it */
  intervalMs?: number;
  /**
   * Notifications carry the schema of the table that changed. undefined (the
   * default): ignore those from other schemas than the one `strategy_configurations`
   * resolves to on this connection (found when LISTEN is established);
   * a string: that schema; null: never filter.
   */
  schema?: string | null;
  /** how long stop() waits for UNLISTEN on a connection that may be gone; default 2000 */
  stopTimeoutMs?: number;
}

export interface ConfigListenerStats extends ReloadStats<ConfigReloadReason> {
  /** notifications received for our schema */
  notifications: number;
  /** notifications ignored because they came from another schema */
  ignoredNotifications: number;
  /** times LISTEN was (re-)established on the dedicated connection */
  listens: number;
  /** a reload is running now */
  reloading: boolean;
}

/**
 * created → starting → listening (LISTEN established) | reconnecting (the
 * first LISTEN failed; postgres.js retries on its own);
 * listening → reconnecting (a reload failed: the database is presumed away);
 * reconnecting → listening (LISTEN came back, or a reload succeeded);
 * any → stopping → stopped.
 */
export type ConfigListenerState = WatcherState<'listening', 'reconnecting'>;

const TRANSITIONS = watcherTransitions('listening', 'reconnecting', true);

type Load = () => Promise<ParsedConfigs>;
type OnConfigs = (parsed: ParsedConfigs, reason: ConfigReloadReason) => void | Promise<void>;

/** When two reasons wait for the same reload, the one reported. */
const PRIORITY: Record<ConfigReloadReason, number> = { periodic: 0, notify: 1, reconnect: 2 };

/**
 * Keeps a running service's strategy configurations current from PostgreSQL.
 *
 * - LISTENs on `strategy_configurations_changed` (postgres.js keeps a dedicated
 *   connection and re-LISTENs after it reconnects); a burst of notifications
 *   is debounced into one reload ('notify').
 * - After every re-established LISTEN except the first, reloads at once
 *   ('reconnect'): notifications sent while it was away are lost.
 * - Reloads every `intervalMs` as well ('periodic').
 * - Never runs two reloads at once: a reload asked for while one runs makes
 *   exactly one more run after it.
 * - A failed reload (database down, query error, or onConfigs throwing) is
 *   logged and counted; the last configuration stays in force and the next
 *   trigger tries again. Nothing here ever throws into the caller's process.
 *
 * `load` is called bare: pass `() => source.load()`, not `source.load`.
 * start() does not load: load once yourself AFTER start() resolves, so that a
 * change made between your load and the LISTEN is not missed.
 */
export class ConfigChangeListener implements ConfigWatcher<ConfigListenerState, ConfigReloadReason> {
  readonly #sql: Sql;
  readonly #load: Load;
  readonly #onConfigs: OnConfigs;
  readonly #log: Logger;
  readonly #intervalMs: number;
  readonly #stopTimeoutMs: number;
  #schema: string | null | undefined;
  readonly #autoSchema: boolean;

  readonly lifecycle = new Lifecycle<ConfigListenerState>('ConfigChangeListener', 'created', TRANSITIONS);
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #listenMeta: ListenMeta | undefined;
  #firstListenFailed = false;

  readonly #debouncer: Debouncer;
  #interval: NodeJS.Timeout | undefined;

  readonly #reloads = new CoalescingRunner<ConfigReloadReason>(
    (reason) => this.#reloadOnce(reason),
    (pending, next) => (PRIORITY[next] > PRIORITY[pending] ? next : pending),
  );

  readonly #stats: ConfigListenerStats = {
    reloads: 0,
    failures: 0,
    lastReloadAt: null,
    lastReloadReason: null,
    lastError: null,
    notifications: 0,
    ignoredNotifications: 0,
    listens: 0,
    reloading: false,
  };

  constructor(sql: Sql, load: Load, onConfigs: OnConfigs, options: ConfigChangeListenerOptions) {
    this.#sql = sql;
    this.#load = load;
    this.#onConfigs = onConfigs;
    this.#log = options.logger;
    const debounceMs = Math.max(0, options.debounceMs ?? 200);
    this.#debouncer = new Debouncer(() => this.requestReload('notify'), debounceMs, options.maxDebounceMs ?? debounceMs * 5);
    this.#intervalMs = Math.max(0, options.intervalMs ?? 60_000);
    this.#stopTimeoutMs = options.stopTimeoutMs ?? 2000;
    this.#autoSchema = options.schema === undefined;
    this.#schema = options.schema;
  }

  /**
   * LISTEN and start the periodic timer. Resolves once LISTEN is established,
   * or once it failed (logged; postgres.js keeps retrying on its own and the
   * first LISTEN that succeeds then triggers a 'reconnect' reload). Calling it
   * again returns the same promise.
   */
  start(): Promise<void> {
    if (this.#stopped) return Promise.reject(new Error('ConfigChangeListener: start() after stop()'));
    this.#starting ??= this.#start();
    return this.#starting;
  }

  get #stopped(): boolean {
    return this.lifecycle.is('stopping', 'stopped');
  }

  /** the lifecycle state (see ConfigListenerState) */
  get state(): ConfigListenerState {
    return this.lifecycle.state;
  }

  /** Date.now() when the current state was entered */
  get stateSince(): number {
    return this.lifecycle.since;
  }

  async #start(): Promise<void> {
    this.lifecycle.to('starting');
    if (this.#intervalMs > 0) {
      this.#interval = setInterval(() => this.requestReload('periodic'), this.#intervalMs);
      this.#interval.unref();
    }
    try {
      const meta = await this.#sql.listen(CONFIG_CHANNEL, (payload) => this.#onNotify(payload), () => this.#onListen());
      if (this.#stopped) {
        void this.#unlisten(meta);
        return;
      }
      this.#listenMeta = meta;
      if (this.#autoSchema && this.#schema === undefined) await this.#resolveSchema();
      if (this.#stopped) return;
      this.lifecycle.to('listening');
      this.#log.info({ channel: CONFIG_CHANNEL, schema: this.#schema ?? null }, 'listening for strategy configuration changes');
    } catch (err) {
      // postgres.js keeps the channel registered and re-LISTENs once the server answers (onListen then fires).
      this.#firstListenFailed = true;
      this.lifecycle.tryTo('reconnecting');
      this.#log.warn({ err, channel: CONFIG_CHANNEL }, 'cannot LISTEN for strategy configuration changes yet; will retry, periodic reloads continue');
    }
  }

  /**
   * Ask for a reload now (no debounce). If one is running, exactly one more
   * runs after it, whatever the number of requests.
   */
  requestReload(reason: ConfigReloadReason): void {
    if (this.#stopped) return;
    this.#reloads.request(reason);
  }

  /** Unlisten, clear the timers, wait for a running reload. Idempotent; onConfigs is never called after it resolves. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.lifecycle.to('stopping');
    const reloading = this.#reloads.stop();
    this.#debouncer.cancel();
    if (this.#interval !== undefined) clearInterval(this.#interval);
    this.#interval = undefined;
    if (this.#starting !== undefined) await this.#withTimeout(this.#starting);
    if (this.#listenMeta !== undefined) await this.#unlisten(this.#listenMeta);
    await reloading;
    this.lifecycle.to('stopped');
  }

  /** Counters for /status (a copy). */
  get stats(): ConfigListenerStats {
    return { ...this.#stats, reloading: this.#reloads.busy, lastError: this.#stats.lastError === null ? null : { ...this.#stats.lastError } };
  }

  #onListen(): void {
    this.#stats.listens++;
    if (this.#stopped) return;
    // The first LISTEN also fires this, while start() still resolves the schema: it moves to listening then.
    if (!this.lifecycle.is('starting')) this.lifecycle.tryTo('listening');
    if (this.#autoSchema && this.#schema === undefined) void this.#resolveSchema();
    if (this.#stats.listens > 1 || this.#firstListenFailed) {
      this.#log.info({ channel: CONFIG_CHANNEL, listens: this.#stats.listens }, 'LISTEN re-established; reloading strategy configurations (notifications may have been missed)');
      this.requestReload('reconnect');
    }
  }

  #onNotify(payload: string): void {
    // After a reconnect postgres.js's unlisten() no longer removes the listener: stay inert once stopped.
    if (this.#stopped) return;
    let op: unknown;
    let id: unknown;
    let schema: unknown;
    try {
      ({ op, id, schema } = JSON.parse(payload) as { op?: unknown; id?: unknown; schema?: unknown });
    } catch {
      // not ours to judge: any notification on the channel means "re-read"
    }
    if (typeof this.#schema === 'string' && typeof schema === 'string' && schema !== this.#schema) {
      this.#stats.ignoredNotifications++;
      return;
    }
    this.#stats.notifications++;
    this.#log.debug({ op, id, schema }, 'strategy configuration change notified');
    this.#debouncer.trigger();
  }

  async #reloadOnce(reason: ConfigReloadReason): Promise<void> {
    let parsed: ParsedConfigs;
    try {
      parsed = await this.#load();
    } catch (err) {
      if (!this.#stopped) this.lifecycle.tryTo('reconnecting');
      this.#fail(reason, err, 'warn', 'strategy configuration reload failed; keeping the last configuration');
      return;
    }
    if (this.#stopped) return;
    if (this.lifecycle.is('reconnecting')) this.lifecycle.to('listening');
    try {
      await this.#onConfigs(parsed, reason);
    } catch (err) {
      this.#fail(reason, err, 'error', 'applying reloaded strategy configurations failed');
      return;
    }
    this.#stats.reloads++;
    this.#stats.lastReloadAt = new Date().toISOString();
    this.#stats.lastReloadReason = reason;
    this.#log.debug({ reason, configs: parsed.configs.length, errors: parsed.errors.length }, 'strategy configurations reloaded');
  }

  #fail(reason: ConfigReloadReason, err: unknown, level: 'warn' | 'error', msg: string): void {
    this.#stats.failures++;
    const s = serializeError(err);
    this.#stats.lastError = { code: s.code, message: s.message, at: new Date().toISOString(), reason };
    this.#log[level]({ err, reason, failures: this.#stats.failures }, msg);
  }

  async #resolveSchema(): Promise<void> {
    try {
      const rows = await this.#sql<{ schema: string }[]>`
        SELECT n.nspname AS schema
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.oid = to_regclass('strategy_configurations')`;
      if (this.#schema === undefined && rows[0] !== undefined) this.#schema = rows[0].schema;
    } catch (err) {
      this.#log.debug({ err }, 'cannot resolve the schema of strategy_configurations; notifications are not filtered');
    }
  }

  async #unlisten(meta: ListenMeta): Promise<void> {
    try {
      await this.#withTimeout(meta.unlisten());
    } catch (err) {
      this.#log.debug({ err }, 'UNLISTEN failed');
    }
  }

  async #withTimeout(p: Promise<unknown>): Promise<void> {
    await within(
      p.catch(() => undefined),
      this.#stopTimeoutMs,
    );
  }
}
