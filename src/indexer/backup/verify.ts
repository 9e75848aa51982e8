import { OwletError, owletError } from '../../shared/errors.js';
import { assertBackupId } from './ids.js';
import { listBackups, readManifest, type Verification } from './manifest.js';
import { runTask } from './runner.js';

/**
 * Verifies one backup again in a worker thread by doing what a restore does (its chain, present,
 * trusted and matching its checksums, restored under the current key into a temporary folder),
 * then integrity_check and the document count; the verdict is written into its manifest. A
 * backup that fails is never used for an automatic restore.
 */
export async function verifyBackup(dir: string, id: string, keys: readonly Buffer[], now: () => number = Date.now): Promise<Verification> {
  assertBackupId(id);
  if (!readManifest(dir, id)) throw owletError('OWL_ERR_BACKUP_NOT_FOUND', { id, dir });
  return runTask<Verification>({ op: 'verify', dir, id, keys: [...keys], at: new Date(now()).toISOString(), lowPriority: true });
}

/** Verifies every backup in the folder, newest first. */
export async function verifyAll(dir: string, keys: readonly Buffer[], now: () => number = Date.now): Promise<{ id: string; verification: Verification }[]> {
  const out: { id: string; verification: Verification }[] = [];
  for (const b of listBackups(dir)) out.push({ id: b.manifest.id, verification: await verifyBackup(dir, b.manifest.id, keys, now) });
  return out;
}
