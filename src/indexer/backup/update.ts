import { OwletError, owletError } from '../../shared/errors.js';
import type { AuditLog } from '../audit/types.js';
import { nullLogger, type Logger } from '../log/logger.js';
import { runningService } from '../service/service-file.js';
import type { CreateOutcome } from './create.js';
import { callService, createLocal } from './local.js';
import type { Manifest } from './manifest.js';

/**
 * The Electron updater calls this before installing an update: a verified backup of the index,
 * taken by the running service when there is one (through its API, like `owlet backup create`),
 * else directly. Resolves with the backup's manifest once it is verified; rejects (and the
 * updater should not install) when the backup failed, could not be verified or was skipped.
 */
export async function backupBeforeUpdate(opts: { dataDir: string; log?: Logger; audit?: AuditLog; timeoutMs?: number }): Promise<Manifest> {
  const log = opts.log ?? nullLogger;
  let out: CreateOutcome;
  if (runningService(opts.dataDir)) out = await callService<CreateOutcome>(opts.dataDir, 'POST', '/api/v1/backups', { reason: 'pre-update' }, opts.timeoutMs);
  else out = await createLocal(opts.dataDir, 'pre-update', log, opts.audit);
  if (out.status === 'skipped') throw owletError('OWL_ERR_BACKUP_NO_SPACE', { reason: out.skip.message });
  if (out.manifest.verification?.ok !== true) throw owletError('OWL_ERR_BACKUP_INVALID', { reason: `the backup before the update failed verification: ${out.manifest.verification?.message ?? 'not verified'}` });
  return out.manifest;
}
