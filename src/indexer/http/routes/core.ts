import type { UpdateSummary } from '../../../shared/api.js';
import { PageParams, parseOr400, pauseBody, SearchParams, type Route, type ServiceApi } from '../contract.js';

/** Search, status, the problem list and the indexing controls. */
export function coreRoutes(api: ServiceApi, updates?: () => UpdateSummary): Route[] {
  return [
    {
      method: 'GET',
      url: '/api/v1/search',
      access: 'authenticated',
      rateLimited: true,
      handler: async (req) => {
        const p = parseOr400(SearchParams, req.query);
        return api.search(p.q, p.limit, p.offset);
      },
    },
    { method: 'GET', url: '/api/v1/status', access: 'authenticated', handler: async () => (updates ? { ...api.status(), update: updates() } : api.status()) },
    {
      method: 'GET',
      url: '/api/v1/errors',
      access: 'authenticated',
      handler: async (req) => {
        const p = parseOr400(PageParams, req.query);
        return { files: api.problems(p.limit, p.offset) };
      },
    },
    {
      method: 'POST',
      url: '/api/v1/index/pause',
      access: 'authenticated',
      handler: async (req) => {
        const { until } = parseOr400(pauseBody(), req.body ?? {});
        api.pause(until);
        return { paused: true, until: until === undefined ? null : new Date(until).toISOString() };
      },
    },
    {
      method: 'POST',
      url: '/api/v1/index/resume',
      access: 'authenticated',
      handler: async () => {
        api.resume();
        return { paused: false };
      },
    },
    {
      method: 'POST',
      url: '/api/v1/index/rescan',
      access: 'authenticated',
      rateLimited: true,
      handler: async (_req, reply) => {
        void api.rescan();
        return reply.code(202).send({ rescan: 'started' });
      },
    },
  ];
}
