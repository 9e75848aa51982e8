import type { FastifyInstance } from 'fastify';
import { authRoutes } from '../http/routes/auth.js';
import { previewRoutes } from '../http/routes/preview.js';
import type { DocumentPreview } from './preview.js';
import { DEFAULT_LIMITS, installAuth, installConnectionLimits, installRequestLimits, installSecurityHeaders, type AuthOptions, type HttpLimits } from './http-guard.js';

export interface HttpSecurityOptions {
  /** Authentication; absent only for in-process tests that drive the app with inject(). */
  auth?: AuthOptions;
  limits?: Partial<HttpLimits>;
  /** Serves GET /api/v1/preview (indexed documents under the roots only); absent: no such route. */
  preview?: (path: string) => DocumentPreview;
}

export function effectiveLimits(l: Partial<HttpLimits> | undefined): HttpLimits {
  return { ...DEFAULT_LIMITS, ...l };
}

/** Everything security adds to the HTTP app; buildServer calls this once. */
export function installHttpSecurity(app: FastifyInstance, opts: HttpSecurityOptions): void {
  const limits = effectiveLimits(opts.limits);
  installSecurityHeaders(app);
  installRequestLimits(app, limits);
  installConnectionLimits(app.server, limits);
  if (opts.auth) {
    installAuth(app, opts.auth, limits);
    authRoutes(app, { sessions: opts.auth.sessions, audit: opts.auth.audit, port: opts.auth.port, ...(opts.auth.now ? { now: opts.auth.now } : {}) });
  }
  if (opts.preview) previewRoutes(app, opts.preview);
}
