import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import { CoalescingRunner } from '../../async/coalescing-runner.js';
import { Lifecycle } from '../../lifecycle/lifecycle.js';
import { watcherTransitions, type WatcherState } from '../watcher-lifecycle.js';
import { Debouncer } from '../../timing/debouncer.js';
import type { ParsedConfigs } from '../../config/strategy-config.js';
import { serializeError } from '../../errors.js';
import type { ConfigWatcher, ReloadStats } from '../../ports.js';
import { FileConfigSource } from './file-config-source.js';
import { RunnerError } from '../../errors.js';

export type FileReloadReason = 'sighup' | 'file-change';

export interface FileConfigWatcherOptions {
  logger: Logger;
  /** quiet time after the last change event before reading the file; default 200 */
  debounceMs?: number;
  /**
   * the signal that forces a reload; default SIGHUP. null: listen for none,
   * because the owner of the process' signals calls requestReload('sighup')
   * itself (`run` maps SIGHUP to Service.reload()); two listeners would reload
   * twice per signal.
   */
  signal?: NodeJS.Signals | null;
}

export interface FileWatcherStats extends ReloadStats<FileReloadReason> {
  /** change events whose content was the one already applied (or already rejected) */
  unchanged: number;
  /** the directory is being watched (false: only the signal reloads) */
  watching: boolean;
}

/**
 * created → starting → watching (the directory is watched) | signal-only
 * (it cannot be: only the signal, or requestReload, reloads);
 * watching → signal-only (the watch failed later); any → stopping → stopped.
 */
export type FileWatcherState = WatcherState<'watching', 'signal-only'>;

const TRANSITIONS = watcherTransitions('watching', 'signal-only', false);

type OnConfigs = (parsed: ParsedConfigs, reason: FileReloadReason) => void | Promise<void>;

/**
 * Reloads a strategies file on SIGHUP and when it changes.
 *
 * - Watches the file's DIRECTORY (fs.watch), keeping the events that name the
 *   file: editors and deploy tools replace a file by renaming another over it,
 *   which a watch on the file itself stops seeing. Events are debounced.
 * - A change event whose content hash equals the content last applied (or
 *   last rejected) is ignored; SIGHUP always reloads.
 * - An unreadable or invalid file (FileConfigSource.load throws) is logged and
 *   the last configuration stays: onConfigs is not called. A file that parses
 *   but has bad ENTRIES is passed on with its `errors`, as at start-up.
 * - Reloads never overlap: one asked for while one runs runs once after it.
 *
 * start() records the file's current hash as applied: call it BEFORE your own
 * initial load, so a change in between is seen. Not covered: a file reached
 * through a symlink whose target is swapped (Kubernetes ConfigMap volumes swap
 * `..data`): the event names the link's target, not the file; send SIGHUP.
 */
export class FileConfigWatcher implements ConfigWatcher<FileWatcherState, FileReloadReason> {
  readonly path: string;
  readonly #dir: string;
  readonly #name: string;
  readonly #onConfigs: OnConfigs;
  readonly #log: Logger;
  readonly #debouncer: Debouncer;
  readonly #signal: NodeJS.Signals | null;
  readonly #onSignal = (): void => this.requestReload('sighup');

  readonly lifecycle = new Lifecycle<FileWatcherState>('FileConfigWatcher', 'created', TRANSITIONS);
  #watcher: FSWatcher | undefined;
  #appliedHash: string | undefined;
  #rejectedHash: string | undefined;
  /** a SIGHUP request wins over a file change (it skips the unchanged-content check) */
  readonly #reloads = new CoalescingRunner<FileReloadReason>(
    (reason) => this.#reloadOnce(reason),
    (pending, next) => (pending === 'sighup' ? pending : next),
  );

  readonly #stats: FileWatcherStats = {
    reloads: 0,
    failures: 0,
    unchanged: 0,
    lastReloadAt: null,
    lastReloadReason: null,
    lastError: null,
    watching: false,
  };

  constructor(path: string, onConfigs: OnConfigs, options: FileConfigWatcherOptions) {
    this.path = resolve(path);
    this.#dir = dirname(this.path);
    this.#name = basename(this.path);
    this.#onConfigs = onConfigs;
    this.#log = options.logger;
    this.#debouncer = new Debouncer(() => this.requestReload('file-change'), options.debounceMs ?? 200);
    this.#signal = options.signal === undefined ? 'SIGHUP' : options.signal;
  }

  get #stopped(): boolean {
    return this.lifecycle.is('stopping', 'stopped');
  }

  /** the lifecycle state (see FileWatcherState) */
  get state(): FileWatcherState {
    return this.lifecycle.state;
  }

  /** Date.now() when the current state was entered */
  get stateSince(): number {
    return this.lifecycle.since;
  }

  /** Record the current content hash, listen for the signal, watch the directory. A directory that cannot be watched is logged, not thrown (SIGHUP still reloads); only a start after stop() throws. */
  async start(): Promise<void> {
    if (this.#stopped) throw new RunnerError('SUPERVISOR_STATE', `FileConfigWatcher: start() after stop() (state ${this.lifecycle.state})`);
    if (!this.lifecycle.is('created')) return;
    this.lifecycle.to('starting');
    try {
      this.#appliedHash = hash(await readFile(this.path));
    } catch {
      // unreadable now: the first readable content will be applied
    }
    if (this.#stopped) return;
    if (this.#signal !== null) process.on(this.#signal, this.#onSignal);
    try {
      const w = watch(this.#dir, { persistent: false }, (_event, filename) => {
        if (filename === null || filename === this.#name) this.#debounce();
      });
      w.on('error', (err) => {
        this.#stats.watching = false;
        this.lifecycle.tryTo('signal-only');
        this.#log.warn({ err, dir: this.#dir }, `watching the strategies file's directory failed; reload with ${this.#signal ?? 'SIGHUP'}`);
      });
      this.#watcher = w;
      this.#stats.watching = true;
    } catch (err) {
      this.#log.warn({ err, dir: this.#dir }, `cannot watch the strategies file's directory; reload with ${this.#signal ?? 'SIGHUP'}`);
    }
    this.lifecycle.tryTo(this.#stats.watching ? 'watching' : 'signal-only');
    this.#log.info({ path: this.path, signal: this.#signal ?? 'SIGHUP', watching: this.#stats.watching }, 'watching the strategies file for changes');
  }

  /** Reload now (no debounce, no hash check for 'sighup'). */
  requestReload(reason: FileReloadReason): void {
    if (this.#stopped) return;
    this.#reloads.request(reason);
  }

  /** Remove the signal listener, close the watcher, wait for a running reload. Idempotent. */
  async stop(): Promise<void> {
    if (!this.#stopped) {
      this.lifecycle.to('stopping');
      if (this.#signal !== null) process.off(this.#signal, this.#onSignal);
      this.#debouncer.cancel();
      this.#watcher?.close();
      this.#watcher = undefined;
      this.#stats.watching = false;
    }
    await this.#reloads.stop();
    this.lifecycle.tryTo('stopped');
  }

  get stats(): FileWatcherStats {
    return { ...this.#stats, lastError: this.#stats.lastError === null ? null : { ...this.#stats.lastError } };
  }

  #debounce(): void {
    if (this.#stopped) return;
    this.#debouncer.trigger();
  }

  async #reloadOnce(reason: FileReloadReason): Promise<void> {
    let h: string | undefined;
    try {
      h = hash(await readFile(this.path));
    } catch {
      // load() below reports the same problem with a proper error code
    }
    if (reason === 'file-change' && h !== undefined && (h === this.#appliedHash || h === this.#rejectedHash)) {
      this.#stats.unchanged++;
      this.#log.debug({ path: this.path }, 'strategies file event without a content change; ignored');
      return;
    }
    let parsed: ParsedConfigs;
    try {
      parsed = await new FileConfigSource(this.path).load();
    } catch (err) {
      this.#rejectedHash = h;
      this.#fail(reason, err, 'warn', 'strategies file cannot be loaded; keeping the last configuration');
      return;
    }
    if (this.#stopped) return;
    try {
      await this.#onConfigs(parsed, reason);
    } catch (err) {
      this.#fail(reason, err, 'error', 'applying the reloaded strategies file failed');
      return;
    }
    // The hash is of the bytes read just before load(): if the file changed in between, its
    // own event follows and, its hash differing, reloads it again (harmless).
    this.#appliedHash = h;
    this.#rejectedHash = undefined;
    this.#stats.reloads++;
    this.#stats.lastReloadAt = new Date().toISOString();
    this.#stats.lastReloadReason = reason;
    this.#log.info({ path: this.path, reason, configs: parsed.configs.length, errors: parsed.errors.length }, 'strategies file reloaded');
  }

  #fail(reason: FileReloadReason, err: unknown, level: 'warn' | 'error', msg: string): void {
    this.#stats.failures++;
    const s = serializeError(err);
    this.#stats.lastError = { code: s.code, message: s.message, at: new Date().toISOString(), reason };
    this.#log[level]({ err, path: this.path, reason }, msg);
  }
}

function hash(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}
