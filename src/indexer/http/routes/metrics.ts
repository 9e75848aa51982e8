import { OwletError, owletError } from '../../../shared/errors.js';
import type { Observability } from '../../metrics/monitoring.js';
import type { Route } from '../contract.js';

/**
 * `GET /metrics`: Prometheus text exposition format, behind the API's authentication like every
 * other endpoint (a scraper sends `Authorization: Bearer <api-token>`).
 */
export function metricsRoutes(obs: Observability): Route[] {
  return [
    {
      method: 'GET',
      url: '/metrics',
      access: 'authenticated',
      handler: async (_req, reply) => {
        if (!obs.enabled) throw owletError('OWL_ERR_MONITORING_OFF', { feature: 'metrics' });
        const { contentType, body } = await obs.metricsText();
        return reply.type(contentType).send(body);
      },
    },
  ];
}
