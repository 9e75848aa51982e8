import { owletError } from '../../shared/errors.js';
import { assertBackupId } from './ids.js';
import { chainOf, listBackups, readManifest, type Manifest } from './manifest.js';
import { checkChain } from './signed-manifest.js';

/**
 * The backups a restore of `id` reads: its full backup and every increment up to it. Each must be
 * present, trusted (distrust) and match its checksum; the first that does not is named in the
 * error. Used by restore and verify alike.
 */
export function resolveChain(dir: string, id: string, keys: readonly Buffer[], now: number = Date.now()): Manifest[] {
  assertBackupId(id);
  const target = readManifest(dir, id);
  if (!target) throw owletError('OWL_ERR_BACKUP_NOT_FOUND', { id, dir });
  const byId = new Map(listBackups(dir).map((b) => [b.manifest.id, b.manifest]));
  byId.set(target.id, target);
  const { chain, missing } = chainOf(id, byId);
  if (missing) throw owletError('OWL_ERR_BACKUP_INVALID', { reason: `backup ${id} is an increment whose chain is broken: backup ${missing} is missing; restore an earlier complete backup` });
  checkChain(dir, chain, keys, now);
  return chain;
}
