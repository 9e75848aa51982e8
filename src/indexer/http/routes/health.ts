import type { Observability } from '../../metrics/monitoring.js';
import type { Route, ServiceApi } from '../contract.js';

/**
 * Health endpoints. `/health/live` and `/health/ready` are public (supervisors and load
 * balancers call them without credentials) and answer with status codes they understand:
 * ready is 200 only when the database is open, its schema current, and a search runs; otherwise
 * 503 with the reasons. `GET /api/v1/health` is the detailed report (authenticated).
 */
export function healthRoutes(api: ServiceApi, obs?: Observability): Route[] {
  const routes: Route[] = [
    { method: 'GET', url: '/health/live', access: 'public', handler: async () => ({ status: 'ok' }) },
    {
      method: 'GET',
      url: '/health/ready',
      access: 'public',
      handler: async (_req, reply) => {
        const r = obs ? obs.readiness() : { ready: api.isReady(), reasons: api.isReady() ? [] : ['the service is starting'] };
        if (r.ready) return { status: 'ready' };
        return reply.code(503).send({ status: 'not-ready', reasons: r.reasons });
      },
    },
  ];
  if (obs) routes.push({ method: 'GET', url: '/api/v1/health', access: 'authenticated', handler: async () => obs.health() });
  return routes;
}
