import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { SEARCH_MAX_LIMIT, SEARCH_MAX_OFFSET, type ProblemFile, type SearchResult, type StatusReport } from '../../shared/api.js';
import { OwletError, isOwletError } from '../../shared/errors.js';
import { describeIssues } from '../config/load.js';
import { effectiveLimits, installHttpSecurity, type HttpSecurityOptions } from '../security/http-security.js';
import { serverLimitOptions } from '../security/http-guard.js';
import { installObservability, type ObservabilityOptions } from './routes/health.js';
import { installBackupRoutes, type BackupRouteOptions } from './routes/backup.js';

/** What the HTTP layer needs from the service; tests pass small fakes. */
export interface ServiceApi {
  isReady(): boolean;
  status(): StatusReport;
  search(q: string, limit: number, offset: number): SearchResult;
  problems(limit: number, offset: number): ProblemFile[];
  pause(): void;
  resume(): void;
  rescan(): Promise<void>;
}

export const SearchParams = z
  .object({
    q: z.string().min(1, 'q is required').max(1000, 'q is longer than 1000 characters'),
    limit: z.coerce.number().int().min(1).max(SEARCH_MAX_LIMIT).default(20),
    offset: z.coerce.number().int().min(0).max(SEARCH_MAX_OFFSET).default(0),
  })
  .strict();

export const PageParams = z
  .object({
    limit: z.coerce.number().int().min(1).max(10_000).default(1000),
    offset: z.coerce.number().int().min(0).default(0),
  })
  .strict();

export function parseOr400<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value ?? {});
  if (!r.success) throw new OwletError('OWL_ERR_ARG_INVALID', describeIssues(r.error));
  return r.data;
}

function sendError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).send({ error: { code, message } });
}

/**
 * The loopback HTTP API as a factory with no `listen`: tests drive it with `inject()`, the
 * service binds it to 127.0.0.1. Every answer is JSON; errors are `{ error: { code, message } }`.
 */
export function buildServer(api: ServiceApi, opts: { bodyLimit?: number } & HttpSecurityOptions & ObservabilityOptions & BackupRouteOptions = {}): FastifyInstance {
  const limits = effectiveLimits({ ...opts.limits, ...(opts.bodyLimit ? { bodyLimitBytes: opts.bodyLimit } : {}) });
  const app = Fastify({ logger: false, ...serverLimitOptions(limits), routerOptions: { maxParamLength: 200 } });
  installHttpSecurity(app, { auth: opts.auth, limits, preview: opts.preview });

  app.setErrorHandler((err: unknown, _req: FastifyRequest, reply: FastifyReply) => {
    if (isOwletError(err)) return sendError(reply, err.httpStatus, err.code, err.message);
    const e = err as { statusCode?: number; code?: string; message?: string };
    if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500)
      return sendError(reply, e.statusCode, e.code ?? 'OWL_ERR_ARG_INVALID', e.message ?? 'bad request');
    return sendError(reply, 500, 'OWL_ERR_INTERNAL', 'internal error; see the service log');
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, 404, 'OWL_ERR_NOT_FOUND', `no such endpoint: ${req.method} ${req.url.split('?')[0]}`));
  app.addHook('onSend', async (_req, reply) => {
    reply.header('Cache-Control', 'no-store');
  });

  // Health (live, ready, report), metrics, alerts, time series, dashboard, request logging.
  installObservability(app, api, opts);
  installBackupRoutes(app, opts);

  app.get('/api/v1/search', async (req) => {
    const p = parseOr400(SearchParams, req.query);
    return api.search(p.q, p.limit, p.offset);
  });
  app.get('/api/v1/status', async () => api.status());
  app.get('/api/v1/errors', async (req) => {
    const p = parseOr400(PageParams, req.query);
    return { files: api.problems(p.limit, p.offset) };
  });
  app.post('/api/v1/index/pause', async () => {
    api.pause();
    return { paused: true };
  });
  app.post('/api/v1/index/resume', async () => {
    api.resume();
    return { paused: false };
  });
  app.post('/api/v1/index/rescan', async (_req, reply) => {
    void api.rescan();
    return reply.code(202).send({ rescan: 'started' });
  });
  return app;
}
