import { reasonText } from '../../../shared/problem-reasons.js';
import { owletError } from '../../../shared/errors.js';
import { parseOr400, ProblemsQuery, RetryBody, type ProblemsApi, type Route } from '../contract.js';

/**
 *   GET  /api/v1/problems?reason=&limit=&offset=   files not indexed, grouped by reason (with what
 *                                                  each means and what to do), and the files of one reason
 *   POST /api/v1/problems/retry {"paths": [...]}   try those files again now (quarantine cleared)
 */
export function problemRoutes(api: ProblemsApi): Route[] {
  return [
    {
      method: 'GET',
      url: '/api/v1/problems',
      access: 'authenticated',
      handler: async (req) => {
        const p = parseOr400(ProblemsQuery, req.query);
        const groups = api.problemGroups().map((g) => ({ ...g, ...reasonText(g.reason) }));
        const files = p.reason ? api.problemsWithReason(p.reason, p.limit, p.offset) : api.problems(p.limit, p.offset);
        return { groups, files };
      },
    },
    {
      method: 'POST',
      url: '/api/v1/problems/retry',
      access: 'authenticated',
      rateLimited: true,
      handler: async (req, reply) => {
        const { paths } = parseOr400(RetryBody, req.body);
        const unknown = api.retry(paths);
        if (unknown.length === paths.length) throw owletError('OWL_ERR_NOT_FOUND', { reason: `not a skipped or failed file of the index: ${unknown.join(', ')}` });
        return reply.code(202).send({ retrying: paths.length - unknown.length, unknown });
      },
    },
  ];
}
