import type { z } from 'zod';

/**
 * Keys in a configuration object that its schema does not declare: the
 * misspelled `"lookbak_period"` that zod's default (strip) mode would drop
 * without a word, leaving the strategy on its defaults.
 *
 * Works on any zod 4 schema, including user strategies' own: it looks for the
 * object schema under the wrappers that do not change the keys a person
 * writes (default, prefault, optional, nullable, readonly, catch, lazy, the
 * input side of a pipe or transform, an intersection of objects) and follows
 * nested objects, arrays and records. Where the schema is not an object
 * schema, or declares its keys open (passthrough, loose, catchall), any key
 * is accepted. Used at the edges only (configuration files, a strategy's
 * parameters when it starts): never per tick.
 */
export interface UnknownKey {
  /** path of the object holding the key ([] = the input itself) */
  path: (string | number)[];
  key: string;
  /** the keys the schema declares at that path */
  known: string[];
  /** the known key it most resembles, if one is close */
  suggestion: string | undefined;
}

/** One problem with a configuration object, for messages and `details.issues`. */
export interface ConfigIssue {
  /** dotted path of the object the problem is in ('' = the input itself) */
  path: string;
  message: string;
  /** for an unknown key: the key, and the known key it resembles */
  key?: string;
  suggestion?: string;
}

type Def = { type: string; [k: string]: unknown };

function defOf(schema: unknown): Def | undefined {
  const d = (schema as { _zod?: { def?: Def } } | null | undefined)?._zod?.def;
  return d !== undefined && typeof d.type === 'string' ? d : undefined;
}

/** The schema under the wrappers that keep the input's keys as written. */
function unwrap(schema: unknown): { def: Def; schema: unknown } | undefined {
  let s = schema;
  for (let depth = 0; depth < 64; depth++) {
    const d = defOf(s);
    if (d === undefined) return undefined;
    switch (d.type) {
      case 'default':
      case 'prefault':
      case 'optional':
      case 'nonoptional':
      case 'nullable':
      case 'readonly':
      case 'catch':
        s = d['innerType'];
        break;
      case 'pipe':
        // The input side sees what the person wrote (a transform is a pipe into a transform).
        s = d['in'];
        break;
      case 'lazy':
        s = (d['getter'] as () => unknown)();
        break;
      default:
        return { def: d, schema: s };
    }
  }
  return undefined;
}

interface ObjectView {
  shape: Record<string, unknown>;
  /** unknown keys are a mistake (strip or strict); false for passthrough, loose, catchall */
  closed: boolean;
}

function objectView(schema: unknown): ObjectView | undefined {
  const u = unwrap(schema);
  if (u === undefined) return undefined;
  if (u.def.type === 'object') {
    const catchall = defOf(u.def['catchall'])?.type;
    return { shape: u.def['shape'] as Record<string, unknown>, closed: catchall === undefined || catchall === 'never' };
  }
  if (u.def.type === 'intersection') {
    const l = objectView(u.def['left']);
    const r = objectView(u.def['right']);
    if (l === undefined || r === undefined) return undefined;
    return { shape: { ...l.shape, ...r.shape }, closed: l.closed && r.closed };
  }
  return undefined;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every key of `input` its schema does not declare, nested ones included, in input order. */
export function findUnknownKeys(schema: z.ZodType, input: unknown): UnknownKey[] {
  const out: UnknownKey[] = [];
  visit(schema, input, [], out);
  return out;
}

function visit(schema: unknown, input: unknown, path: (string | number)[], out: UnknownKey[]): void {
  if (input === null || typeof input !== 'object') return;
  const u = unwrap(schema);
  if (u === undefined) return;
  if (Array.isArray(input)) {
    if (u.def.type === 'array') input.forEach((v, i) => visit(u.def['element'], v, [...path, i], out));
    return;
  }
  if (u.def.type === 'record') {
    for (const [k, v] of Object.entries(input)) visit(u.def['valueType'], v, [...path, k], out);
    return;
  }
  const view = objectView(u.schema);
  if (view === undefined) return;
  const known = Object.keys(view.shape);
  for (const [k, v] of Object.entries(input as Record<string, unknown>)) {
    if (Object.hasOwn(view.shape, k)) {
      if (isPlainObject(v) || Array.isArray(v)) visit(view.shape[k], v, [...path, k], out);
    } else if (view.closed) {
      out.push({ path, key: k, known, suggestion: closestKey(k, known) });
    }
  }
}

/**
 * The known key `key` is most likely a misspelling of: the fewest edits
 * (insert, delete, change or swap two adjacent letters), ignoring case and
 * `_`/`-`, and only when that is small for the key's length.
 */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const a = key.toLowerCase();
  const an = normalise(key);
  for (const k of known) {
    const d = Math.min(editDistance(a, k.toLowerCase()), editDistance(an, normalise(k)));
    const limit = Math.max(1, Math.floor(Math.max(key.length, k.length) / 3));
    if (d <= limit && d < Math.min(an.length, normalise(k).length) && d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

function normalise(s: string): string {
  return s.toLowerCase().replace(/[_\-\s]/g, '');
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

function unknownKeyIssue(path: string, key: string, suggestion: string | undefined, known: readonly string[] | undefined): ConfigIssue {
  const hint = suggestion !== undefined ? ` (did you mean '${suggestion}'?)` : known !== undefined && known.length > 0 ? ` (known keys: ${known.join(', ')})` : '';
  const issue: ConfigIssue = { path, key, message: `unknown key '${key}'${hint}` };
  if (suggestion !== undefined) issue.suggestion = suggestion;
  return issue;
}

/**
 * The problems of `input` against `schema`: first its unknown keys (each with
 * the known key it resembles), then the schema's own issues (`error`, from
 * safeParse). A strict schema's "unrecognized keys" issue is not repeated.
 */
export function describeIssues(schema: z.ZodType, input: unknown, error: z.ZodError | undefined): ConfigIssue[] {
  const unknown = findUnknownKeys(schema, input);
  const seen = new Set(unknown.map((u) => JSON.stringify([...u.path, u.key])));
  const out = unknown.map((u) => unknownKeyIssue(u.path.join('.'), u.key, u.suggestion, u.known));
  for (const i of error?.issues ?? []) {
    const path = i.path.map(String);
    if (i.code === 'unrecognized_keys') {
      for (const k of i.keys) if (!seen.has(JSON.stringify([...i.path, k]))) out.push(unknownKeyIssue(path.join('.'), k, undefined, undefined));
      continue;
    }
    out.push({ path: path.join('.'), message: i.message });
  }
  return out;
}

/** `path: message; ...`, as in every configuration error message. An unknown key names itself, so it needs no "(root)". */
export function formatIssueList(issues: readonly ConfigIssue[]): string {
  return issues.map((i) => (i.path !== '' ? `${i.path}: ${i.message}` : i.key !== undefined ? i.message : `(root): ${i.message}`)).join('; ');
}
