import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Readiness, StatusDocument } from './status-document.js';
export type { Readiness } from './status-document.js';

export interface StatusProviders {
  /** The /status document. */
  status(): Promise<StatusDocument>;
  /** Liveness: the process and its supervisor are up. */
  healthy(): boolean;
  /** Readiness: every configured strategy has started and input is flowing; otherwise why not. */
  readiness(): Readiness;
  /** Prometheus exposition (text format). */
  metrics?(): Promise<{ contentType: string; body: string }>;
  /** Operator controls; refused unless a token is configured. */
  controlToken?: string | null;
  control?: {
    restart(id: string): Promise<boolean>;
    resume(id: string): Promise<boolean>;
    state(id: string): string | undefined;
  };
}


const CONTROL = /^\/control\/strategies\/([^/]+)\/(restart|resume)$/;

/**
 * A small HTTP server for operators: GET /status (JSON), /healthz and
 * /readyz (200 or 503). Bound to 127.0.0.1 unless configured otherwise.
 */
export class StatusServer {
  readonly #providers: StatusProviders;
  readonly #log: Logger;
  #server: Server | undefined;

  constructor(providers: StatusProviders, logger: Logger) {
    this.#providers = providers;
    this.#log = logger.child({ component: 'status' });
  }

  async listen(port: number, host = '127.0.0.1'): Promise<AddressInfo> {
    const server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        this.#log.error({ err }, 'status request failed');
        if (!res.headersSent) send(res, 500, { error: 'internal error' });
        else res.destroy();
      });
    });
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address() as AddressInfo;
    this.#log.info({ host: addr.address, port: addr.port }, 'status server listening');
    return addr;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const control = CONTROL.exec(path);
    if (control !== null) {
      let id: string;
      try {
        id = decodeURIComponent(control[1]!);
      } catch {
        return send(res, 400, { error: 'malformed strategy id in the path' });
      }
      return this.#control(req, res, id, control[2] as 'restart' | 'resume');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'method not allowed' });
    try {
      switch (path) {
        case '/status':
          return send(res, 200, await this.#providers.status());
        case '/healthz': {
          const ok = this.#providers.healthy();
          return send(res, ok ? 200 : 503, { status: ok ? 'ok' : 'unhealthy' });
        }
        case '/readyz': {
          const r = this.#providers.readiness();
          const body: Record<string, unknown> = r.ready ? { status: 'ready' } : { status: 'not ready', reasons: r.reasons };
          if (r.warnings.length > 0) body['warnings'] = r.warnings;
          return send(res, r.ready ? 200 : 503, body);
        }
        case '/metrics': {
          if (this.#providers.metrics === undefined) break;
          const m = await this.#providers.metrics();
          res.writeHead(200, { 'content-type': m.contentType, 'cache-control': 'no-store' });
          res.end(m.body);
          return;
        }
      }
      return send(res, 404, { error: `no such endpoint ${path}; try /status, /healthz, /readyz, /metrics` });
    } catch (err) {
      this.#log.error({ err }, 'status request failed');
      return send(res, 500, { error: (err as Error).message });
    }
  }

  /**
   * POST /control/strategies/{id}/restart | resume, with
   * `Authorization: Bearer <token>`. Refused (403) when no token is
   * configured, 401 on a wrong token (compared in constant time).
   */
  async #control(req: IncomingMessage, res: ServerResponse, id: string, action: 'restart' | 'resume'): Promise<void> {
    const { controlToken, control } = this.#providers;
    if (req.method !== 'POST') return send(res, 405, { error: 'control endpoints take POST' });
    if (controlToken === undefined || controlToken === null || control === undefined) {
      return send(res, 403, { error: 'operator controls are disabled: set status.controlToken (or STRATEGY_RUNNER_CONTROL_TOKEN)' });
    }
    const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const a = Buffer.from(given);
    const b = Buffer.from(controlToken);
    if (a.length !== b.length || !timingSafeEqual(a, b)) {
      this.#log.warn({ strategy_id: id, action, remote: req.socket.remoteAddress }, 'control call refused: bad token');
      return send(res, 401, { error: 'missing or wrong bearer token' });
    }
    const state = control.state(id);
    if (state === undefined) return send(res, 404, { error: `no strategy '${id}' is configured` });
    try {
      const done = action === 'restart' ? await control.restart(id) : await control.resume(id);
      if (!done) return send(res, 409, { error: `strategy '${id}' is ${state}: cannot ${action}`, state });
      this.#log.warn({ strategy_id: id, action, remote: req.socket.remoteAddress }, 'operator control');
      return send(res, 200, { strategy: id, action, state: control.state(id) });
    } catch (err) {
      return send(res, 500, { error: (err as Error).message });
    }
  }

  async close(): Promise<void> {
    const s = this.#server;
    if (s === undefined) return;
    this.#server = undefined;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2);
  res.writeHead(code, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}
