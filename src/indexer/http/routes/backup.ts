import { OwletError, owletError } from '../../../shared/errors.js';
import type { BackupApi } from '../../backup/listing.js';
import { BackupCreateBody, BackupIdParams, parseOr400, type Route } from '../contract.js';

/**
 * Backups over the API (behind the same authentication as every /api route):
 *   GET  /api/v1/backups               list, last verified time, schedule, last skip/failure/recovery
 *   POST /api/v1/backups               take one now ({"reason": "manual" | "pre-update"}); answers when verified
 *   POST /api/v1/backups/verify        verify every backup again
 *   POST /api/v1/backups/:id/verify    verify one
 *   POST /api/v1/backups/:id/restore   restore it under the running service (the only way while it runs)
 */
export function backupRoutes(b: BackupApi): Route[] {
  return [
    { method: 'GET', url: '/api/v1/backups', access: 'authenticated', handler: async () => b.list() },
    {
      method: 'POST',
      url: '/api/v1/backups',
      access: 'authenticated',
      handler: async (req, reply) => {
        const body = parseOr400(BackupCreateBody, req.body ?? {});
        const out = await b.create(body.reason);
        if (out.status === 'skipped') throw owletError('OWL_ERR_BACKUP_NO_SPACE', { reason: out.skip.message });
        return reply.code(201).send(out);
      },
    },
    { method: 'POST', url: '/api/v1/backups/verify', access: 'authenticated', handler: async () => ({ results: await b.verify() }) },
    {
      method: 'POST',
      url: '/api/v1/backups/:id/verify',
      access: 'authenticated',
      handler: async (req) => ({ results: await b.verify(parseOr400(BackupIdParams, req.params).id) }),
    },
    {
      method: 'POST',
      url: '/api/v1/backups/:id/restore',
      access: 'authenticated',
      handler: async (req) => b.restore(parseOr400(BackupIdParams, req.params).id),
    },
  ];
}
