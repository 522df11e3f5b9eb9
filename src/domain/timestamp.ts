/**
 * Timestamps on the wire are epoch milliseconds (number) or ISO-8601 strings
 * with an explicit zone (`Z` or `±hh:mm`). Inside the runner every timestamp
 * is epoch milliseconds. A zone is required: `2024-01-01T09:15:00` would be
 * read in the host's local zone, and a trading host must not guess.
 */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;

/** Returns epoch ms, or undefined when the value is not an accepted timestamp. */
export function toEpochMs(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 0 ? value : undefined;
  }
  if (typeof value === 'string' && ISO_8601.test(value) && calendarValid(value)) {
    const ms = Date.parse(value.length > 10 && value[10] === ' ' ? `${value.slice(0, 10)}T${value.slice(11)}` : value);
    return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
  }
  return undefined;
}

export const TIMESTAMP_RULE = 'epoch milliseconds (number >= 0) or an ISO-8601 string with a zone (Z or +hh:mm)';

/** Date.parse rolls impossible dates over (Feb 30 → Mar 1); a feed that sends one is broken, not early. */
function calendarValid(iso: string): boolean {
  const year = Number(iso.slice(0, 4));
  const month = Number(iso.slice(5, 7));
  const day = Number(iso.slice(8, 10));
  const hour = Number(iso.slice(11, 13));
  const minute = Number(iso.slice(14, 16));
  const second = iso[16] === ':' ? Number(iso.slice(17, 19)) : 0;
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return false;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day <= daysInMonth;
}
