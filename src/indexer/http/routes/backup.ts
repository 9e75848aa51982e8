import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { OwletError } from '../../../shared/errors.js';
import type { BackupApi } from '../../backup/listing.js';
import { parseOr400 } from '../server.js';

export interface BackupRouteOptions {
  /** Backups and restore of the running service (the IndexGuardian); absent in tests of the core API. */
  backups?: BackupApi;
}

const IdParams = z.object({ id: z.string().regex(/^[0-9TZ]+-[0-9a-f]{4}$/, 'not a backup id') }).strict();
const CreateBody = z.object({ reason: z.enum(['manual', 'pre-update']).default('manual') }).strict();

/**
 * Backups over the API (behind the same authentication as every /api route):
 *   GET  /api/v1/backups               list, last verified time, schedule, last skip/failure/recovery
 *   POST /api/v1/backups               take one now ({"reason": "manual" | "pre-update"}); answers when verified
 *   POST /api/v1/backups/verify        verify every backup again
 *   POST /api/v1/backups/:id/verify    verify one
 *   POST /api/v1/backups/:id/restore   restore it under the running service (the only way while it runs)
 */
export async function backupRoutes(app: FastifyInstance, opts: { backups: BackupApi }): Promise<void> {
  const b = opts.backups;
  app.get('/api/v1/backups', async () => b.list());
  app.post('/api/v1/backups', async (req, reply) => {
    const body = parseOr400(CreateBody, req.body ?? {});
    const out = await b.create(body.reason);
    if (out.status === 'skipped') throw new OwletError('OWL_ERR_BACKUP_NO_SPACE', out.skip.message);
    return reply.code(201).send(out);
  });
  app.post('/api/v1/backups/verify', async () => ({ results: await b.verify() }));
  app.post('/api/v1/backups/:id/verify', async (req) => {
    const p = parseOr400(IdParams, req.params);
    return { results: await b.verify(p.id) };
  });
  app.post('/api/v1/backups/:id/restore', async (req) => {
    const p = parseOr400(IdParams, req.params);
    return b.restore(p.id);
  });
}

/** buildServer calls this once. */
export function installBackupRoutes(app: FastifyInstance, opts: BackupRouteOptions): void {
  if (opts.backups) void app.register(backupRoutes, { backups: opts.backups });
}
