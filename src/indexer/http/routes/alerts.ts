import { OwletError, owletError } from '../../../shared/errors.js';
import { AlertAckParams, AlertListParams, parseOr400, type Route } from '../contract.js';
import type { Observability } from '../../metrics/monitoring.js';

/** `GET /api/v1/alerts` (active, banner, history) and `POST /api/v1/alerts/:id/ack`. */
export function alertRoutes(obs: Observability): Route[] {
  return [
    {
      method: 'GET',
      url: '/api/v1/alerts',
      access: 'authenticated',
      handler: async (req) => obs.alerts(parseOr400(AlertListParams, req.query).history),
    },
    {
      method: 'POST',
      url: '/api/v1/alerts/:id/ack',
      access: 'authenticated',
      handler: async (req) => {
        const p = parseOr400(AlertAckParams, req.params);
        if (!obs.enabled) throw owletError('OWL_ERR_MONITORING_OFF', { feature: 'alerts' });
        return { alert: obs.acknowledge(p.id) };
      },
    },
  ];
}
