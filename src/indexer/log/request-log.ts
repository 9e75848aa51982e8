import type { FastifyInstance, FastifyRequest } from 'fastify';
import { newCorrelationId, withCorrelation } from './correlation.js';
import type { Logger } from './logger.js';
import { logSafePath } from './log-safe.js';

// The query string can hold search terms: never logged; the path is escaped (logSafePath).
const pathOnly = logSafePath;

const REFUSAL = Symbol('owlet.refusal');

/**
 * Records why the security layer refused a request; the request's one log line then carries the
 * reason (a refusal used to be logged twice: by the guard and by the response).
 */
export function noteRefusal(req: FastifyRequest, reason: string): void {
  (req as unknown as Record<symbol, string>)[REFUSAL] = reason;
}

function refusalOf(req: FastifyRequest): string | undefined {
  return (req as unknown as Record<symbol, string | undefined>)[REFUSAL];
}

/**
 * One correlation id per HTTP request: everything logged while handling it carries `cid`, the
 * answer carries it as `X-Request-Id`, and one line per request records method, path (never the
 * query), status and duration — at debug level for successes (a polling dashboard would flood
 * the log), info for client errors, warn for server errors.
 */
export function installRequestLogging(app: FastifyInstance, log: Logger): void {
  const ids = new WeakMap<FastifyRequest, { cid: string; t0: bigint }>();
  // Callback style on purpose: continuing the chain inside withCorrelation makes every later hook
  // and the handler run in the request's async context.
  app.addHook('onRequest', (req, reply, done) => {
    const cid = newCorrelationId('req');
    ids.set(req, { cid, t0: process.hrtime.bigint() });
    reply.header('X-Request-Id', cid);
    withCorrelation(cid, done);
  });
  app.addHook('onResponse', (req, reply, done) => {
    const r = ids.get(req);
    const fields = { cid: r?.cid, method: req.method, path: pathOnly(req.url), status: reply.statusCode, ms: r ? Number(process.hrtime.bigint() - r.t0) / 1e6 : undefined };
    const reason = refusalOf(req);
    if (reply.statusCode >= 500) log.warn('request failed', fields);
    else if (reason !== undefined) log.warn('request refused', { ...fields, reason });
    else if (reply.statusCode >= 400) log.info('request refused', fields);
    else log.debug('request', fields);
    done();
  });
}
