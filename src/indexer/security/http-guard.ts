import type http from 'node:http';
import type net from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { AuditLog } from '../../shared/audit.js';
import { CSRF_HEADER, SESSION_COOKIE, readCookie, type Session, type SessionStore } from './sessions.js';
import { secretsEqual } from './token.js';
import type { HttpLimits } from './limits.js';
import { AggregatedFailureAudit } from './failure-audit.js';
import { logSafePath } from '../log/log-safe.js';

/**
 * The loopback API's front door: Host allow-list (DNS rebinding), Origin check (cross-site
 * requests), bearer token or session cookie, CSRF token for cookie-authenticated writes, a
 * per-client rate limit on expensive endpoints, limits against slow clients, and security headers
 * on every answer. Installed as root hooks so they also cover 404s.
 */

export interface AuthInfo {
  kind: 'bearer' | 'cookie';
  /** Present for cookie sessions. */
  session?: Session;
  sessionId?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    owletAuth: AuthInfo | null;
  }
}

export { DEFAULT_LIMITS, type HttpLimits } from './limits.js';

export interface AuthOptions {
  /** The API token as of now (re-read after rotation). */
  tokens: { current(): string };
  sessions: SessionStore;
  audit: AuditLog;
  /** The port clients must name in Host; defaults to the bound port (inject() tests pass it). */
  port?: number;
  /** Called when a request was refused, for the service log (no secrets in `reason`). */
  onRefused?: (reason: string, req: FastifyRequest) => void;
  now?: () => number;
}

/** Node server settings that bound how long a slow client may hold a connection. */
export function serverLimitOptions(l: HttpLimits): {
  bodyLimit: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  http: http.ServerOptions;
} {
  return {
    bodyLimit: l.bodyLimitBytes,
    requestTimeout: l.requestTimeoutMs,
    keepAliveTimeout: l.keepAliveTimeoutMs,
    // Node only checks these timers every connectionsCheckingInterval (30 s by default).
    http: {
      headersTimeout: l.headersTimeoutMs,
      requestTimeout: l.requestTimeoutMs,
      connectionsCheckingInterval: Math.max(250, Math.min(1000, Math.floor(l.headersTimeoutMs / 4))),
    },
  };
}

/**
 * A cap on open connections and a deadline for connections that have not sent a request yet:
 * sockets that connect and say nothing would otherwise hold file descriptors until the header
 * timeout and, in numbers, stall everyone. Past the cap Node closes new connections at once.
 */
export function installConnectionLimits(server: http.Server, l: Pick<HttpLimits, 'maxConnections' | 'idleConnectionMs'>): void {
  server.maxConnections = l.maxConnections;
  const waiting = new Map<net.Socket, NodeJS.Timeout>();
  server.on('connection', (socket: net.Socket) => {
    const t = setTimeout(() => {
      waiting.delete(socket);
      socket.destroy();
    }, l.idleConnectionMs);
    t.unref();
    waiting.set(socket, t);
    socket.once('close', () => {
      clearTimeout(t);
      waiting.delete(socket);
    });
  });
  // The first complete request ends the wait; later idling is keepAliveTimeout's job.
  server.on('request', (req: http.IncomingMessage) => {
    const t = waiting.get(req.socket);
    if (t) {
      clearTimeout(t);
      waiting.delete(req.socket);
    }
  });
}

/** No remote sources, no framing, no inline script: the dashboard is same-origin files only. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export function installSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (req, reply, payload) => {
    reply.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('Referrer-Policy', 'no-referrer');
    reply.header('X-Frame-Options', 'DENY');
    reply.header('Cross-Origin-Opener-Policy', 'same-origin');
    reply.header('Cross-Origin-Resource-Policy', 'same-origin');
    if (!reply.hasHeader('Cache-Control') || req.url.startsWith('/api/')) reply.header('Cache-Control', 'no-store');
    return payload;
  });
}

function sendError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send({ error: { code, message } });
}

export function htmlPage(title: string, body: string): string {
  const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><link rel="icon" href="/favicon.svg" type="image/svg+xml"></head><body><h1>${esc(title)}</h1><p>${esc(body)}</p></body></html>\n`;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Which requests the guard lets through without credentials and which it rate-limits: read from
 * the HTTP layer's route table, so the guard keeps no list of endpoints of its own.
 */
export interface RouteAccess {
  /** "METHOD /path" of every public route (GET routes also under HEAD). */
  publicRoutes: ReadonlySet<string>;
  /** Paths whose cost grows with input or which guard a secret: rate-limited per client. */
  rateLimitedPaths: ReadonlySet<string>;
}

function hostHeaderCount(raw: string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === 'host') n++;
  return n;
}

function loginCodeOf(query: unknown): string | undefined {
  const c = (query as { code?: unknown } | undefined)?.code;
  return typeof c === 'string' ? c : undefined;
}

export function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** The loopback names a browser may use for this service. */
export function allowedHosts(port: number): Set<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
}

/** The address each server was last bound to: a service that paused accepting (host/accept-pause.ts) still owns it. */
const lastBound = new WeakMap<FastifyInstance, { port: number; family: string }>();

function boundAddress(app: FastifyInstance): { port: number; family: string } | undefined {
  const a = app.server.address();
  if (typeof a === 'object' && a) {
    const b = { port: a.port, family: a.family };
    lastBound.set(app, b);
    return b;
  }
  // Not listening right now: requests still arrive through the standby's private channel and on
  // connections accepted before the pause, addressed to the same port.
  return lastBound.get(app);
}

function boundPort(app: FastifyInstance): number | undefined {
  return boundAddress(app)?.port;
}

/** The URL the service is reached at (for login links): the bound loopback address. */
export function serviceOrigin(app: FastifyInstance, port?: number): string {
  const p = port ?? boundPort(app) ?? 0;
  const ipv6 = boundAddress(app)?.family === 'IPv6';
  return ipv6 ? `http://[::1]:${p}` : `http://127.0.0.1:${p}`;
}

/** Limits that hold with or without authentication (buildServer installs them on every app). */
export function installRequestLimits(app: FastifyInstance, limits: HttpLimits): void {
  app.addHook('onRequest', async (req, reply) => {
    if (req.url.length > limits.maxUrlChars) {
      return sendError(reply, 414, 'OWL_ERR_ARG_INVALID', `the request URL is longer than ${limits.maxUrlChars} characters`);
    }
  });
}

export function installAuth(app: FastifyInstance, opts: AuthOptions, limits: HttpLimits, routes: RouteAccess): void {
  app.decorateRequest('owletAuth', null);
  const refused = (req: FastifyRequest, reason: string) => opts.onRefused?.(reason, req);
  const now = opts.now ?? Date.now;
  // Failed bearer attempts and sign-ins are audited, but at most one entry per 10 s (with a count)
  // so a misconfigured client or a flood cannot fill the log.
  const tokenFailures = new AggregatedFailureAudit(opts.audit, 'auth.token-failed', { now });
  const auditTokenFailure = (req: FastifyRequest) => tokenFailures.record({ method: req.method, path: logSafePath(req.url) });
  // Sessions belong to the token they were granted under: a new token ends them all.
  let tokenSeen = opts.tokens.current();
  app.addHook('onClose', async () => tokenFailures.flush());

  // Remember the port as soon as it is bound (boundPort): a pause may come before any request.
  app.server.on('listening', () => void boundPort(app));
  app.addHook('onRequest', async (req, reply) => {
    req.owletAuth = null;
    const port = opts.port ?? boundPort(app);
    const host = (req.headers.host ?? '').toLowerCase();
    // Node keeps the first of several Host headers; a proxy or cache may use another. Refuse.
    if (hostHeaderCount(req.raw.rawHeaders) > 1) {
      refused(req, 'host');
      return sendError(reply, 400, 'OWL_ERR_HTTP_HOST', 'the request has more than one Host header');
    }
    if (port === undefined || !allowedHosts(port).has(host)) {
      refused(req, 'host');
      return sendError(reply, 421, 'OWL_ERR_HTTP_HOST', 'this service only answers requests addressed to 127.0.0.1, localhost or [::1] with its own port');
    }
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${host}`) {
      refused(req, 'origin');
      return sendError(reply, 403, 'OWL_ERR_HTTP_ORIGIN', 'cross-origin requests are refused');
    }
    const route = `${req.method} ${pathOf(req.url)}`;
    const token = opts.tokens.current();
    if (token !== tokenSeen) {
      tokenSeen = token;
      opts.sessions.clear();
    }
    if (routes.publicRoutes.has(route)) return;

    const authz = req.headers.authorization;
    if (authz !== undefined) {
      const m = /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(authz);
      if (m && secretsEqual(m[1]!, token)) {
        req.owletAuth = { kind: 'bearer' };
        return;
      }
      refused(req, 'token');
      auditTokenFailure(req);
      return sendError(reply, 401, 'OWL_ERR_AUTH_REQUIRED', 'the API token is wrong; clients read it from the api-token file in the data directory');
    }
    const sid = readCookie(req.headers.cookie, SESSION_COOKIE);
    const session = sid ? opts.sessions.get(sid) : undefined;
    if (sid && session) {
      if (STATE_CHANGING.has(req.method) && !opts.sessions.csrfMatches(session, req.headers[CSRF_HEADER] as string | undefined)) {
        refused(req, 'csrf');
        return sendError(reply, 403, 'OWL_ERR_HTTP_CSRF', `missing or wrong ${CSRF_HEADER} header; get the token from GET /api/v1/session`);
      }
      req.owletAuth = { kind: 'cookie', session, sessionId: sid };
      return;
    }
    refused(req, 'unauthenticated');
    if (req.method === 'GET' && !pathOf(req.url).startsWith('/api/') && (req.headers.accept ?? '').includes('text/html')) {
      return reply.code(401).type('text/html; charset=utf-8').send(htmlPage('Sign in to Owlet', 'Run "owlet open" in a terminal to get a sign-in link.'));
    }
    return sendError(reply, 401, 'OWL_ERR_AUTH_REQUIRED', 'authentication required: send "Authorization: Bearer <api-token>" or sign in with "owlet open"');
  });

  // Rate limit per client on expensive endpoints; keyed after authentication so each session and
  // the bearer client get their own budget (every loopback client has the same IP).
  app.register(rateLimit, { global: false });
  app.after(() => {
    const limiter = app.createRateLimit({
      max: limits.rateLimitMax,
      timeWindow: limits.rateLimitWindowMs,
      keyGenerator: (req: FastifyRequest) => {
        const a = req.owletAuth;
        const who = a?.kind === 'cookie' ? `s:${a.sessionId ?? ''}` : (a?.kind ?? 'anon');
        // Requests the standby passes on arrive over a Unix socket (no address): they are local too,
        // and share the loopback budget instead of getting a second one.
        return `${req.ip || '127.0.0.1'}|${who}`;
      },
    });
    app.addHook('preHandler', async (req, reply) => {
      const p = pathOf(req.url);
      if (!routes.rateLimitedPaths.has(p)) return;
      // The owner's real sign-in link is never refused because others flooded the shared
      // unauthenticated budget: a live code is checked (not consumed) before the limit.
      if (p === '/login' && opts.sessions.isLiveCode(loginCodeOf(req.query))) return;
      const r = await limiter(req);
      if (!r.isAllowed && r.isExceeded) {
        refused(req, 'rate-limit');
        reply.header('Retry-After', String(Math.max(1, Math.ceil(r.ttl / 1000))));
        return sendError(reply, 429, 'OWL_ERR_HTTP_RATE_LIMITED', `too many requests; try again in ${Math.max(1, Math.ceil(r.ttl / 1000))} s`);
      }
    });
  });
}
