import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseOr400 } from '../server.js';
import type { Observability } from '../../metrics/monitoring.js';
import { SIGNALS, SIGNAL_NAMES, type SignalName } from '../../metrics/signals.js';

const RANGES = { '15m': 900, '1h': 3600, '6h': 6 * 3600, '24h': 86_400, '7d': 7 * 86_400, '30d': 30 * 86_400, '90d': 90 * 86_400 } as const;

const Params = z
  .object({
    // Without a series, or with a wrong one, the error lists every valid name.
    series: z
      .string({ error: `series is required: name one or more of ${SIGNAL_NAMES.join(', ')} (comma-separated)` })
      .max(2000)
      .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
      .pipe(
        z
          .array(z.enum(SIGNAL_NAMES, { error: (iss) => `unknown series "${String(iss.input)}"; the series are ${SIGNAL_NAMES.join(', ')}` }))
          .min(1, `name at least one series: ${SIGNAL_NAMES.join(', ')}`)
          .max(30),
      ),
    range: z.enum(Object.keys(RANGES) as [keyof typeof RANGES, ...(keyof typeof RANGES)[]]).default('1h'),
    points: z.coerce.number().int().min(2).max(2000).default(300),
  })
  .strict();

/**
 * `GET /api/v1/timeseries?series=a,b&range=1h&points=300`: chart data from metrics.db, from the
 * finest tier that covers the range. `GET /api/v1/timeseries/signals`: what can be asked for.
 */
export async function timeseriesRoutes(app: FastifyInstance, opts: { obs: Observability; now?: () => number }): Promise<void> {
  const now = opts.now ?? Date.now;
  app.get('/api/v1/timeseries/signals', async () => ({
    enabled: opts.obs.enabled,
    sampleSeconds: opts.obs.sampleSeconds,
    signals: SIGNAL_NAMES.map((name) => ({ name, ...SIGNALS[name] })),
  }));
  app.get('/api/v1/timeseries', async (req) => {
    const p = parseOr400(Params, req.query);
    const to = now();
    const r = opts.obs.timeseries(p.series as SignalName[], to - RANGES[p.range] * 1000, to, p.points);
    return { enabled: opts.obs.enabled, range: p.range, ...r, units: Object.fromEntries(p.series.map((n) => [n, SIGNALS[n as SignalName].unit])) };
  });
}
