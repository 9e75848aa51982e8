import type { FastifyInstance } from 'fastify';
import type { Observability } from '../../metrics/monitoring.js';

/**
 * `GET /metrics`: Prometheus text exposition format, behind the API's authentication like every
 * other endpoint (a scraper sends `Authorization: Bearer <api-token>`).
 */
export async function metricsRoutes(app: FastifyInstance, opts: { obs: Observability }): Promise<void> {
  app.get('/metrics', async (_req, reply) => {
    if (!opts.obs.enabled) {
      return reply.code(404).send({ error: { code: 'OWL_ERR_NOT_FOUND', message: 'metrics are off: set monitoring.enabled to true in config.json and restart' } });
    }
    const { contentType, body } = await opts.obs.metricsText();
    return reply.type(contentType).send(body);
  });
}
