import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { clientErrorOf, ErrorCodes, type ErrorCode } from '../../shared/errors.js';
import type { Logger } from '../log/logger.js';
import { installRequestLogging } from '../log/request-log.js';
import { installAuth, installConnectionLimits, installRequestLimits, installSecurityHeaders, serverLimitOptions, type AuthOptions } from '../security/http-guard.js';
import { effectiveLimits, type HttpLimits } from '../security/limits.js';
import { AggregatedFailureAudit } from '../security/failure-audit.js';
import type { Route } from './contract.js';
import { routeTable, type RouteFeatures } from './route-table.js';

export type { ServiceApi } from './contract.js';

export interface ServerOptions extends Omit<RouteFeatures, 'api' | 'auth'> {
  bodyLimit?: number;
  /** Authentication; absent only for in-process tests that drive the app with inject(). */
  auth?: AuthOptions;
  limits?: Partial<HttpLimits>;
  /** Per-request log lines with correlation ids. */
  requestLog?: Logger;
}

function sendError(reply: FastifyReply, status: number, code: ErrorCode, message: string): FastifyReply {
  return reply.code(status).send({ error: { code, message, remedy: ErrorCodes[code].remedy } });
}

/** `GET /x` also answers `HEAD /x` (fastify adds it), so the public list names both. */
function routeKeys(r: Route): string[] {
  return r.method === 'GET' ? [`GET ${r.url}`, `HEAD ${r.url}`] : [`${r.method} ${r.url}`];
}

/**
 * The loopback HTTP API as a factory with no `listen`: tests drive it with `inject()`, the
 * service binds it to 127.0.0.1. Every answer is JSON; errors are `{ error: { code, message, remedy } }`
 * with a code from Owlet's catalog, never one from a library.
 *
 * The order is the point: request logging first (so refusals are logged with a correlation id),
 * then the security guards from security/ (headers, limits, authentication, rate limit), then the
 * one route table.
 */
export function buildServer(api: RouteFeatures['api'], opts: ServerOptions = {}): FastifyInstance {
  const limits = effectiveLimits({ ...opts.limits, ...(opts.bodyLimit ? { bodyLimitBytes: opts.bodyLimit } : {}) });
  const app = Fastify({ logger: false, ...serverLimitOptions(limits), routerOptions: { maxParamLength: 200 } });
  // One audit entry per window for failed sign-ins; the last window is written when the server closes.
  const loginFailures = opts.auth ? new AggregatedFailureAudit(opts.auth.audit, 'auth.login-failed', opts.auth.now ? { now: opts.auth.now } : {}) : undefined;
  if (loginFailures) app.addHook('onClose', async () => loginFailures.flush());
  const routes = routeTable({ ...opts, api, ...(opts.auth ? { auth: { sessions: opts.auth.sessions, audit: opts.auth.audit, port: opts.auth.port, loginFailures, ...(opts.auth.now ? { now: opts.auth.now } : {}) } } : {}) });

  if (opts.requestLog) installRequestLogging(app, opts.requestLog);
  installSecurityHeaders(app);
  installRequestLimits(app, limits);
  installConnectionLimits(app.server, limits);
  if (opts.auth) {
    installAuth(app, opts.auth, limits, {
      publicRoutes: new Set(routes.filter((r) => r.access === 'public').flatMap(routeKeys)),
      rateLimitedPaths: new Set(routes.filter((r) => r.rateLimited).map((r) => r.url)),
    });
  }

  app.setErrorHandler((err: unknown, _req: FastifyRequest, reply: FastifyReply) => {
    const e = clientErrorOf(err);
    return sendError(reply, e.status, e.code, e.message);
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, 404, 'OWL_ERR_NOT_FOUND', `no such endpoint: ${req.method} ${req.url.split('?')[0]}`));
  app.addHook('onSend', async (_req, reply) => {
    reply.header('Cache-Control', 'no-store');
  });

  for (const r of routes) app.route({ method: r.method, url: r.url, handler: r.handler });
  return app;
}
