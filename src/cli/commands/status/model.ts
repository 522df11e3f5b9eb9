import { loadServiceConfig } from '../../../config/service-config.js';
import { intOption, UsageError } from '../../usage-error.js';

// What `status` reads: where the status server is (--url, --port or the
// configuration), and the /status document, read tolerantly: a missing field
// is '-', never an error (older and newer runners differ).

export function positiveSeconds(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a number of seconds > 0, got '${value}'`);
  return n;
}

/** The status server's base address from --url, --port or the configuration's status section. */
export function baseUrl(v: { url?: string | undefined; port?: string | undefined; config?: string | undefined }): string {
  if (v.url !== undefined && v.port !== undefined) throw new UsageError('give --url or --port, not both');
  if (v.url !== undefined) {
    let u: URL;
    try {
      u = new URL(v.url.includes('://') ? v.url : `http://${v.url}`);
    } catch {
      throw new UsageError(`--url is not a URL: '${v.url}'`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`--url must be http:// or https://, got '${v.url}'`);
    // Accept the address of an endpoint too (…/status, …/readyz).
    const path = u.pathname.replace(/\/+$/, '').replace(/\/(status|readyz|healthz|metrics)$/, '');
    return `${u.protocol}//${u.host}${path}`;
  }
  const port = intOption('port', v.port, 1);
  if (port !== undefined) {
    if (port > 65_535) throw new UsageError(`--port must be at most 65535, got '${v.port}'`);
    return `http://127.0.0.1:${port}`;
  }
  const c = loadServiceConfig(v.config);
  if (c.status.port === null || c.status.port === 0) {
    throw new UsageError(
      v.config === undefined
        ? 'where is the status server? give --url URL or --port N (or --config FILE with status.port)'
        : `the configuration sets no fixed status.port (it is ${String(c.status.port)}): give --url URL or --port N`,
    );
  }
  // A server bound to every interface is reached on loopback.
  const host = c.status.host === '0.0.0.0' || c.status.host === '::' ? '127.0.0.1' : c.status.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${c.status.port}`;
}

export type Obj = Record<string, unknown>;

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
export const objs = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);

/** A section of the received document, typed, if it is an object (a runner of another version may send anything). */
export function section<T extends object>(v: T | null | undefined): T | undefined {
  return isObj(v) ? v : undefined;
}

/** The objects of a list in the received document, typed (anything else in it is passed over). */
export function items<T extends object>(v: readonly (T | null | undefined)[] | null | undefined): T[] {
  return Array.isArray(v) ? (v.filter((x) => isObj(x)) as T[]) : [];
}
export const str = (v: unknown): string => (v === null || v === undefined ? '-' : typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v));
export const yesNo = (v: unknown): string => (v === true ? 'yes' : v === false ? 'no' : '-');
