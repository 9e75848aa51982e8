import type { FastifyInstance } from 'fastify';
import type { ServiceApi } from '../server.js';
import type { Logger } from '../../log/logger.js';
import { installRequestLogging } from '../../log/request-log.js';
import type { Observability } from '../../metrics/monitoring.js';
import { alertRoutes } from './alerts.js';
import { dashboardRoutes } from './dashboard.js';
import { metricsRoutes } from './metrics.js';
import { timeseriesRoutes } from './timeseries.js';

/**
 * Health endpoints. `/health/live` and `/health/ready` are public (supervisors and load
 * balancers call them without credentials) and answer with status codes they understand:
 * ready is 200 only when the database is open, its schema current, and a search runs; otherwise
 * 503 with the reasons. `GET /api/v1/health` is the detailed report (authenticated).
 */
export async function healthRoutes(app: FastifyInstance, opts: { api: ServiceApi; obs?: Observability }): Promise<void> {
  app.get('/health/live', async () => ({ status: 'ok' }));
  app.get('/health/ready', async (_req, reply) => {
    const r = opts.obs ? opts.obs.readiness() : { ready: opts.api.isReady(), reasons: opts.api.isReady() ? [] : ['the service is starting'] };
    if (r.ready) return { status: 'ready' };
    return reply.code(503).send({ status: 'not-ready', reasons: r.reasons });
  });
  const obs = opts.obs;
  if (obs) app.get('/api/v1/health', async () => obs.health());
}

export interface ObservabilityOptions {
  /** Metrics, health report, alerts, time series; absent in tests that only drive the core API. */
  observability?: Observability;
  /** Where the built dashboard is (default dist/renderer); served at `/` when observability is on. */
  dashboardDir?: string;
  /** Per-request log lines with correlation ids. */
  requestLog?: Logger;
}

/** Everything observability adds to the HTTP app; buildServer calls this once. */
export function installObservability(app: FastifyInstance, api: ServiceApi, opts: ObservabilityOptions): void {
  if (opts.requestLog) installRequestLogging(app, opts.requestLog);
  const obs = opts.observability;
  void app.register(healthRoutes, { api, ...(obs ? { obs } : {}) });
  if (!obs) return;
  void app.register(metricsRoutes, { obs });
  void app.register(alertRoutes, { obs });
  void app.register(timeseriesRoutes, { obs });
  void app.register(dashboardRoutes, opts.dashboardDir ? { dir: opts.dashboardDir } : {});
}
