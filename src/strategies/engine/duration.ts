const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** '250ms', '30s', '1m', '4h', '1d' → milliseconds; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  if (m === null) return undefined;
  const n = Number(m[1]) * UNITS[m[2]!]!;
  return n > 0 && Number.isSafeInteger(n) ? n : undefined;
}
