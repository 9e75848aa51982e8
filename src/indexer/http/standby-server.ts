/**
 * The read-only hot standby's HTTP front (host/standby.ts runs it). It accepts on the same
 * listening socket as the primary service and answers, by itself, only what keeps a client
 * working while the primary is stopped, hung or restarting:
 *
 * - `GET /health/live` and `GET /health/ready` (public, as on the primary; ready is 200 only while
 *   the standby reads a consistent index);
 * - `GET /api/v1/search` with the API token (bearer).
 *
 * Everything else, and those too while the standby cannot read the index, goes to the primary
 * through `forward` (host/primary-channel.ts), so the primary's guards, sessions, rate limits and
 * audit log decide. When the primary cannot be reached the answer is 503 with the retryable code
 * OWL_ERR_STANDBY and `Connection: close`, so the client's retry opens a new connection, which the
 * kernel may hand to the primary.
 *
 * Browser sessions are NOT verified here (they live in the primary's memory, and a second copy
 * would outlive a sign-out): a cookie request always goes to the primary. A wrong token also goes
 * to the primary, which refuses and audits it; the standby writes no audit entries.
 */
import http from 'node:http';
import type { SearchResult } from '../../shared/api.js';
import { ErrorCodes, clientErrorOf, type ErrorCode } from '../../shared/errors.js';
import type { Logger } from '../log/logger.js';
import { allowedHosts, CONTENT_SECURITY_POLICY, installConnectionLimits, pathOf, serverLimitOptions } from '../security/http-guard.js';
import type { HttpLimits } from '../security/limits.js';
import { secretsEqual } from '../security/token.js';
import { parseOr400, SearchParams } from './contract.js';

/** What the standby serves from (service/standby-index.ts). */
export interface StandbyReader {
  readonly ready: boolean;
  readonly reasons: string[];
  search(q: string, limit: number, offset: number): SearchResult;
}

/** Passes a request to the primary; calls `unavailable` (without answering) when it cannot. */
export type ForwardToPrimary = (req: http.IncomingMessage, res: http.ServerResponse, unavailable: (reason: string, reached: boolean) => void) => void;

export interface StandbyServerOptions {
  reader: StandbyReader;
  tokens: { current(): string };
  /** The port clients name in Host (the shared socket's). */
  port: number;
  limits: HttpLimits;
  /** null: no way to the primary (Windows, a data folder path too long for a socket). */
  forward: ForwardToPrimary | null;
  log: Logger;
}

/** Marks answers the standby gave itself (operators and tests tell the two processes apart by it). */
export const SERVED_BY_HEADER = 'x-owlet-served-by';

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

function send(req: http.IncomingMessage, res: http.ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  if (res.headersSent) return void res.destroy();
  const text = JSON.stringify(body);
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), [SERVED_BY_HEADER]: 'standby', ...extra });
  res.end(req.method === 'HEAD' ? undefined : text);
}

function sendError(req: http.IncomingMessage, res: http.ServerResponse, status: number, code: ErrorCode, message: string, extra: Record<string, string> = {}): void {
  send(req, res, status, { error: { code, message, remedy: ErrorCodes[code].remedy } }, extra);
}

function hostHeaderCount(raw: string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === 'host') n++;
  return n;
}

export function createStandbyServer(o: StandbyServerOptions): http.Server {
  const { limits } = o;
  const server = http.createServer(serverLimitOptions(limits).http, (req, res) => handle(req, res));
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxHeadersCount = 100;
  installConnectionLimits(server, limits);

  /**
   * The primary cannot answer: 503 on a connection the client must not reuse. OWL_ERR_STANDBY says
   * nothing was done, so any client may retry; a write the primary may have read before it stopped
   * answering is OWL_ERR_SERVICE_UNREACHABLE instead (not retried blindly).
   */
  const refuse = (req: http.IncomingMessage, res: http.ServerResponse, reason: string, reached: boolean) => {
    const close = { Connection: 'close', 'Retry-After': '1' };
    if (reached && req.method !== 'GET' && req.method !== 'HEAD') {
      return sendError(req, res, 503, 'OWL_ERR_SERVICE_UNREACHABLE', `the service at http://${req.headers.host ?? ''} did not answer ${req.method} ${pathOf(req.url ?? '/')}: ${reason}`, close);
    }
    sendError(req, res, 503, 'OWL_ERR_STANDBY', `this request reached Owlet's read-only standby and the primary service cannot answer it now (${reason}); retry`, close);
  };

  const toPrimary = (req: http.IncomingMessage, res: http.ServerResponse, whenDown: (reason: string, reached: boolean) => void) => {
    if (!o.forward) return whenDown('no channel to the primary on this system', false);
    o.forward(req, res, whenDown);
  };

  function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = req.url ?? '/';
    if (url.length > limits.maxUrlChars) return sendError(req, res, 414, 'OWL_ERR_ARG_INVALID', `the request URL is longer than ${limits.maxUrlChars} characters`);
    // The same front-door checks as the primary's guard (security/http-guard.ts), before anything
    // is answered or passed on.
    const host = (req.headers.host ?? '').toLowerCase();
    if (hostHeaderCount(req.rawHeaders) > 1) return sendError(req, res, 400, 'OWL_ERR_HTTP_HOST', 'the request has more than one Host header');
    if (!allowedHosts(o.port).has(host)) return sendError(req, res, 421, 'OWL_ERR_HTTP_HOST', 'this service only answers requests addressed to 127.0.0.1, localhost or [::1] with its own port');
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${host}`) return sendError(req, res, 403, 'OWL_ERR_HTTP_ORIGIN', 'cross-origin requests are refused');

    const p = pathOf(url);
    const read = req.method === 'GET' || req.method === 'HEAD';
    if (read && p === '/health/live') return send(req, res, 200, { status: 'ok' });
    if (read && p === '/health/ready') {
      if (o.reader.ready) return send(req, res, 200, { status: 'ready' });
      // The primary may be ready while the standby waits for a file: its answer is the truth.
      return toPrimary(req, res, () => send(req, res, 503, { status: 'not-ready', reasons: o.reader.reasons }, { Connection: 'close' }));
    }
    if (read && p === '/api/v1/search' && bearerOk(req) && o.reader.ready) {
      try {
        const q = parseOr400(SearchParams, Object.fromEntries(new URL(url, 'http://standby').searchParams));
        return send(req, res, 200, o.reader.search(q.q, q.limit, q.offset));
      } catch (e) {
        const err = clientErrorOf(e);
        // The standby lost its view mid-request: the primary may still answer.
        if (err.code === 'OWL_ERR_NOT_READY') return toPrimary(req, res, (reason, reached) => refuse(req, res, reason, reached));
        return sendError(req, res, err.status, err.code, err.message);
      }
    }
    toPrimary(req, res, (reason, reached) => refuse(req, res, reason, reached));
  }

  function bearerOk(req: http.IncomingMessage): boolean {
    const m = /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(req.headers.authorization ?? '');
    return m !== null && secretsEqual(m[1]!, o.tokens.current());
  }

  server.on('clientError', (_e, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  return server;
}
