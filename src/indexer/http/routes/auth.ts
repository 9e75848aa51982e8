import type { AuditLog } from '../../audit/types.js';
import { OwletError, owletError } from '../../../shared/errors.js';
import { htmlPage, serviceOrigin } from '../../security/http-guard.js';
import { AggregatedFailureAudit } from '../../security/failure-audit.js';
import { clearedSessionCookie, sessionCookie, type SessionStore } from '../../security/sessions.js';
import { LoginQuery, type Route } from '../contract.js';

export interface AuthRouteOptions {
  sessions: SessionStore;
  audit: AuditLog;
  port?: number;
  now?: () => number;
  /**
   * Where failed sign-ins are counted. buildServer passes one it flushes when the server closes
   * (the last window's count must reach the audit log on shutdown); without it, one is made here.
   */
  loginFailures?: AggregatedFailureAudit;
}

/**
 * Dashboard sign-in without exposing the API token to page scripts: a bearer client (`owlet
 * open`) asks for a one-time link; the browser exchanges its code for an HttpOnly, SameSite=Strict
 * session cookie; page scripts read only the per-session CSRF token.
 */
export function authRoutes(opts: AuthRouteOptions): Route[] {
  // One audit entry per 10 s with a count, not one fsync'd entry per failed attempt (#11.8).
  const loginFailures = opts.loginFailures ?? new AggregatedFailureAudit(opts.audit, 'auth.login-failed', opts.now ? { now: opts.now } : {});
  return [
    {
      method: 'POST',
      url: '/api/v1/auth/login-link',
      access: 'authenticated',
      rateLimited: true,
      handler: async (req) => {
        if (req.owletAuth?.kind !== 'bearer') throw owletError('OWL_ERR_AUTH_FORBIDDEN', { reason: 'only a client holding the API token can create sign-in links' });
        const code = opts.sessions.issueCode();
        return { url: `${serviceOrigin(req.server, opts.port)}/login?code=${code}`, expiresInSeconds: 60 };
      },
    },
    {
      method: 'GET',
      url: '/login',
      access: 'public',
      rateLimited: true,
      handler: async (req, reply) => {
        const parsed = LoginQuery.safeParse(req.query ?? {});
        const code = parsed.success ? parsed.data.code : undefined;
        if (!code || !opts.sessions.consumeCode(code)) {
          loginFailures.record({ reason: code ? 'unknown, used or expired code' : 'no code', ip: req.ip });
          return reply
            .code(401)
            .type('text/html; charset=utf-8')
            .send(htmlPage('Sign-in link not valid', 'This sign-in link is wrong, was already used, or has expired (links last 60 seconds). Run "owlet open" again.'));
        }
        const { id } = opts.sessions.create();
        opts.audit.append('auth.login', { ip: req.ip });
        return reply.code(303).header('Set-Cookie', sessionCookie(id)).header('Location', '/').send();
      },
    },
    {
      method: 'GET',
      url: '/api/v1/session',
      access: 'authenticated',
      handler: async (req) => {
        const a = req.owletAuth;
        return { csrf: a?.kind === 'cookie' ? a.session!.csrf : null, auth: a?.kind ?? null };
      },
    },
    {
      method: 'POST',
      url: '/api/v1/auth/logout',
      access: 'authenticated',
      rateLimited: true,
      handler: async (req, reply) => {
        const a = req.owletAuth;
        if (a?.kind === 'cookie' && a.sessionId) opts.sessions.end(a.sessionId);
        return reply.header('Set-Cookie', clearedSessionCookie()).send({ signedOut: true });
      },
    },
  ];
}
