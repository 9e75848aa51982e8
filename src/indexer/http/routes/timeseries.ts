import type { Observability } from '../../metrics/monitoring.js';
import { SIGNALS, SIGNAL_NAMES, type SignalName } from '../../../shared/signals.js';
import { parseOr400, TIMESERIES_RANGES, timeseriesParams, type Route } from '../contract.js';

const Params = timeseriesParams(SIGNAL_NAMES);

/**
 * `GET /api/v1/timeseries?series=a,b&range=1h&points=300`: chart data from metrics.db, from the
 * finest tier that covers the range. `GET /api/v1/timeseries/signals`: what can be asked for.
 */
export function timeseriesRoutes(obs: Observability, now: () => number = Date.now): Route[] {
  return [
    {
      method: 'GET',
      url: '/api/v1/timeseries/signals',
      access: 'authenticated',
      handler: async () => ({
        enabled: obs.enabled,
        sampleSeconds: obs.sampleSeconds,
        signals: SIGNAL_NAMES.map((name) => ({ name, ...SIGNALS[name] })),
      }),
    },
    {
      method: 'GET',
      url: '/api/v1/timeseries',
      access: 'authenticated',
      handler: async (req) => {
        const p = parseOr400(Params, req.query);
        const to = now();
        const series = p.series as SignalName[];
        const r = obs.timeseries(series, to - TIMESERIES_RANGES[p.range] * 1000, to, p.points);
        return { enabled: obs.enabled, range: p.range, ...r, units: Object.fromEntries(series.map((n) => [n, SIGNALS[n].unit])) };
      },
    },
  ];
}
