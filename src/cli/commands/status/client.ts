/** One read of a status server: /status as JSON and /readyz's verdict, every failure as a sentence. */
export type FetchResult = { ok: true; status: unknown; ready: boolean | null } | { ok: false; error: string };

export async function fetchStatus(base: string, timeoutMs: number): Promise<FetchResult> {
  const url = `${base}/status`;
  const readyz = fetch(`${base}/readyz`, { signal: AbortSignal.timeout(timeoutMs) }).then(
    async (r) => {
      await r.body?.cancel();
      return r.status === 200 ? true : r.status === 503 ? false : null;
    },
    () => null,
  );
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  } catch (err) {
    await readyz;
    return { ok: false, error: `cannot reach ${url}: ${describeFetchError(err, timeoutMs)}` };
  }
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    await readyz;
    return { ok: false, error: `reading ${url} failed: ${describeFetchError(err, timeoutMs)}` };
  }
  const ready = await readyz;
  if (res.status !== 200) return { ok: false, error: `${url} answered HTTP ${res.status}: ${text.slice(0, 200)}` };
  try {
    return { ok: true, status: JSON.parse(text) as unknown, ready };
  } catch {
    return { ok: false, error: `${url} did not return JSON: ${text.slice(0, 200)}` };
  }
}

function describeFetchError(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`;
  const cause = e?.cause;
  if (cause?.code !== undefined) return `${cause.code}${cause.message !== undefined ? ` (${cause.message})` : ''}`;
  return e?.message ?? String(err);
}
