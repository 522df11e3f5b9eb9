import type { Signal } from '../../src/domain/signal.js';

/** How the signals a run published differ from what replay (the reference) computes. */
export interface SignalComparison {
  /** expected signals that never came out */
  missing: Signal[];
  /** signals that came out with an id replay does not produce */
  extra: Signal[];
  /** ids published with more than one content (never allowed, even at-least-once) */
  conflicting: { signal_id: string; contents: string[] }[];
  /** ids replay produces that came out with a content different from replay's */
  wrong: { got: Signal; want: Signal }[];
  /** published more than once, byte-identical (allowed at-least-once) */
  duplicates: number;
}

/**
 * Compare published signals with the reference: every expected signal exactly
 * as replay computes it, nothing else; one signal_id always has one content.
 */
export function compareSignals(got: readonly Signal[], want: readonly Signal[]): SignalComparison {
  const byId = new Map<string, Set<string>>();
  for (const s of got) {
    let set = byId.get(s.signal_id);
    if (set === undefined) byId.set(s.signal_id, (set = new Set()));
    set.add(JSON.stringify(s));
  }
  const wantById = new Map(want.map((s) => [s.signal_id, s]));
  const conflicting = [...byId].filter(([, c]) => c.size > 1).map(([signal_id, c]) => ({ signal_id, contents: [...c] }));
  const missing = want.filter((s) => !byId.has(s.signal_id));
  const seenExtra = new Set<string>();
  const extra: Signal[] = [];
  const wrong: { got: Signal; want: Signal }[] = [];
  const seenWrong = new Set<string>();
  for (const s of got) {
    const w = wantById.get(s.signal_id);
    if (w === undefined) {
      if (!seenExtra.has(s.signal_id)) extra.push(s);
      seenExtra.add(s.signal_id);
    } else if (JSON.stringify(s) !== JSON.stringify(w) && !seenWrong.has(s.signal_id)) {
      seenWrong.add(s.signal_id);
      wrong.push({ got: s, want: w });
    }
  }
  return { missing, extra, conflicting, wrong, duplicates: got.length - byId.size };
}

/** A short summary of a comparison, for assertion messages: counts and the first few of each kind. */
export function describeComparison(c: SignalComparison): Record<string, unknown> {
  return {
    missing: c.missing.length,
    extra: c.extra.length,
    conflicting: c.conflicting.length,
    wrong: c.wrong.length,
    first_missing: c.missing.slice(0, 3),
    first_extra: c.extra.slice(0, 3),
    first_conflicting: c.conflicting.slice(0, 2),
    first_wrong: c.wrong.slice(0, 2),
  };
}
