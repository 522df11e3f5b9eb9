import { RunnerError } from '../errors.js';

/**
 * A state machine's legal moves, written once as a table: each state lists the
 * states it may go to. A state with no entry (or an empty list) is final.
 */
export type TransitionTable<S extends string> = { readonly [K in S]: readonly S[] };

export type StateListener<S extends string> = (next: S, previous: S) => void;

/**
 * The lifecycle of one component (the service, the supervisor, a thread host,
 * the Kafka input, a config watcher, a strategy): its state, changed only
 * through `to()`, which checks the transition table and throws
 * `INVALID_TRANSITION` naming the component and both states; `require()`
 * guards a method that only some states allow (`SUPERVISOR_STATE`).
 */
export class Lifecycle<S extends string> {
  readonly component: string;
  readonly #table: TransitionTable<S>;
  #state: S;
  #since = Date.now();
  readonly #listeners: StateListener<S>[] = [];
  readonly #waiters: { states: readonly S[]; resolve: (s: S) => void }[] = [];

  constructor(component: string, initial: S, table: TransitionTable<S>) {
    this.component = component;
    this.#state = initial;
    this.#table = table;
  }

  get state(): S {
    return this.#state;
  }

  /** Date.now() when the current state was entered */
  get since(): number {
    return this.#since;
  }

  is(...states: readonly S[]): boolean {
    return states.includes(this.#state);
  }

  can(next: S): boolean {
    return this.#table[this.#state].includes(next);
  }

  /** Move to `next`; a move the table does not list throws INVALID_TRANSITION. Moving to the current state is not a move. */
  to(next: S): void {
    const previous = this.#state;
    if (next === previous) return;
    if (!this.can(next)) {
      throw new RunnerError('INVALID_TRANSITION', `${this.component}: ${previous} → ${next} is not a legal transition`, {
        details: { component: this.component, from: previous, to: next },
      });
    }
    this.#state = next;
    this.#since = Date.now();
    for (const l of this.#listeners) l(next, previous);
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const w = this.#waiters[i]!;
      if (w.states.includes(next)) {
        this.#waiters.splice(i, 1);
        w.resolve(next);
      }
    }
  }

  /** Move to `next` if the table allows it; false (and no change) if not. */
  tryTo(next: S): boolean {
    if (next !== this.#state && !this.can(next)) return false;
    this.to(next);
    return true;
  }

  /** Throw SUPERVISOR_STATE unless the component is in one of `states`: for a method (`what`) only those states allow. */
  require(what: string, ...states: readonly S[]): void {
    if (!states.includes(this.#state)) {
      throw new RunnerError('SUPERVISOR_STATE', `${this.component}: ${what}() in state ${this.#state}`, {
        details: { component: this.component, state: this.#state, allowed: [...states] },
      });
    }
  }

  /** Called after every transition (not for the initial state). */
  onChange(listener: StateListener<S>): () => void {
    this.#listeners.push(listener);
    return () => {
      const i = this.#listeners.indexOf(listener);
      if (i >= 0) this.#listeners.splice(i, 1);
    };
  }

  /** Resolves once the state is one of `states` (at once if it already is). */
  reached(...states: readonly S[]): Promise<S> {
    if (states.includes(this.#state)) return Promise.resolve(this.#state);
    return new Promise((resolve) => this.#waiters.push({ states, resolve }));
  }
}
