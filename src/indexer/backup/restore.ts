import fs from 'node:fs';
import path from 'node:path';
import { owletError } from '../../shared/errors.js';
import type { AuditLog } from '../audit/types.js';
import type { Logger } from '../log/logger.js';
import { runningService } from '../service/service-file.js';
import { isVerified, listBackups, readManifest, type Manifest } from './manifest.js';
import { fsyncDir, indexFile, moveDatabase, recoveryDir, sideFiles, stamp } from './paths.js';
import { runTask } from './runner.js';
import type { UnpackResult } from './worker.js';

/**
 * Restoring a backup over the live index, atomically:
 *
 *   unpack + check ──▶ index.db.restoring           (checksums, quick_check, document count)
 *   set aside      ──▶ recovery/index.db.<time>.<why> (the current file and its WAL: never deleted)
 *   rename         ──▶ index.db                       (one rename: readers see old or new)
 *   prove          ──▶ open the way the service does, count the documents
 *        └─ fails  ──▶ the set-aside file goes back, the restored one is removed
 */

export function restoringPath(dataDir: string): string {
  return `${indexFile(dataDir)}.restoring`;
}

export interface PreparedRestore {
  manifest: Manifest;
  unpacked: UnpackResult;
  staged: string;
}

/** Unpacks and checks a backup next to the live index, without touching it. */
export async function stageRestore(dataDir: string, dir: string, id: string, keys: readonly Buffer[]): Promise<PreparedRestore> {
  const manifest = readManifest(dir, id);
  if (!manifest) throw owletError('OWL_ERR_BACKUP_NOT_FOUND', { id, dir });
  const staged = restoringPath(dataDir);
  const unpacked = await runTask<UnpackResult>({ op: 'unpack', dir, id, keys: [...keys], target: staged });
  return { manifest, unpacked, staged };
}

/**
 * Swaps a staged restore in. Returns where the previous index went (null when there was none).
 * `why` names the set-aside file: `pre-restore` (a restore asked for) or `corrupt` (recovery).
 */
export function swapIn(dataDir: string, staged: string, why: 'pre-restore' | 'corrupt', now: number): string | null {
  const live = indexFile(dataDir);
  let aside: string | null = null;
  if (fs.existsSync(live) || sideFiles(live).some((f) => fs.existsSync(f))) aside = setAside(dataDir, why, now);
  fs.renameSync(staged, live);
  for (const f of sideFiles(staged)) fs.rmSync(f, { force: true });
  fsyncDir(path.dirname(live));
  return aside;
}

/** Moves the live index (and its WAL/SHM) into recovery/ with a timestamp. Never deletes. */
export function setAside(dataDir: string, why: 'pre-restore' | 'corrupt', now: number): string {
  return moveDatabase(indexFile(dataDir), path.join(recoveryDir(dataDir), `index.db.${stamp(now, true)}.${why}`));
}

/** Puts a set-aside file back after a restore could not be proven good. */
export function putBack(dataDir: string, aside: string | null): void {
  const live = indexFile(dataDir);
  for (const f of [live, ...sideFiles(live)]) fs.rmSync(f, { force: true });
  if (aside) moveDatabase(aside, live);
}

/** The newest verified backups first: the candidates for an automatic restore. */
export function verifiedBackups(dir: string): Manifest[] {
  return listBackups(dir)
    .filter((b) => b.present && isVerified(b.manifest))
    .map((b) => b.manifest);
}

export interface RestoreOptions {
  dataDir: string;
  dir: string;
  id: string;
  keys: readonly Buffer[];
  log: Logger;
  audit?: AuditLog;
  now?: () => number;
  /** Opens the restored index the way the service will and returns its document count (throws if it cannot). */
  prove: () => number;
  /** Set by the running service's own API; everyone else is refused while a service runs. */
  viaService?: boolean;
}

export interface RestoreResult {
  id: string;
  documents: number;
  setAside: string | null;
}

/**
 * `owlet backup restore ID` without a running service (the service restores through its own
 * API, which swaps its database under the IndexGuardian).
 */
export async function restoreBackup(o: RestoreOptions): Promise<RestoreResult> {
  if (!o.viaService) {
    const running = runningService(o.dataDir);
    if (running) throw owletError('OWL_ERR_SERVICE_RUNNING', { pid: running.pid });
  }
  const now = o.now ?? Date.now;
  const prepared = await stageRestore(o.dataDir, o.dir, o.id, o.keys);
  const aside = swapIn(o.dataDir, prepared.staged, 'pre-restore', now());
  let documents: number;
  try {
    documents = o.prove();
    if (documents !== prepared.manifest.documentCount) throw owletError('OWL_ERR_BACKUP_INVALID', { reason: `the restored index holds ${documents} documents, backup ${o.id} ${prepared.manifest.documentCount}` });
  } catch (e) {
    putBack(o.dataDir, aside);
    o.log.error('restore failed; the previous index is back in place', { id: o.id, error: e });
    throw e;
  }
  o.log.info('backup restored', { id: o.id, documents, setAside: aside ? path.basename(aside) : null });
  o.audit?.append('backup.restored', { id: o.id, documents, reason: 'requested', setAside: aside ? path.basename(aside) : null });
  return { id: o.id, documents, setAside: aside };
}
