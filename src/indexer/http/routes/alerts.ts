import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { OwletError } from '../../../shared/errors.js';
import { parseOr400 } from '../server.js';
import type { Observability } from '../../metrics/monitoring.js';

const ListParams = z.object({ history: z.coerce.number().int().min(0).max(1000).default(50) }).strict();
const AckParams = z.object({ id: z.string().regex(/^[a-z0-9-]{1,100}$/, 'not an alert id') }).strict();

/** `GET /api/v1/alerts` (active, banner, history) and `POST /api/v1/alerts/:id/ack`. */
export async function alertRoutes(app: FastifyInstance, opts: { obs: Observability }): Promise<void> {
  app.get('/api/v1/alerts', async (req) => {
    const p = parseOr400(ListParams, req.query);
    return opts.obs.alerts(p.history);
  });
  app.post('/api/v1/alerts/:id/ack', async (req) => {
    const p = parseOr400(AckParams, req.params);
    if (!opts.obs.enabled) throw new OwletError('OWL_ERR_NOT_FOUND', 'alerts are off: set monitoring.enabled to true in config.json and restart');
    return { alert: opts.obs.acknowledge(p.id) };
  });
}
