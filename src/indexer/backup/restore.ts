import fs from 'node:fs';
import path from 'node:path';
import { owletError } from '../../shared/errors.js';
import type { AuditLog } from '../audit/types.js';
import type { Logger } from '../log/logger.js';
import { runningService } from '../service/service-file.js';
import { assertBackupId } from './ids.js';
import { chainOf, isVerified, listBackups, readManifest, type Manifest } from './manifest.js';
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

/**
 * Restores a backup (its whole chain) into a new file next to the live index, under the current
 * key (`keys[0]`), and checks it, without touching the live index. Exactly what verify does.
 */
export async function stageRestore(dataDir: string, dir: string, id: string, keys: readonly Buffer[]): Promise<PreparedRestore> {
  assertBackupId(id);
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

/** How many set-aside index files recovery/ keeps (newest first); older ones are removed. */
export const RECOVERY_KEEP = 3;

/**
 * Moves the live index (and its WAL/SHM) into recovery/ with a timestamp, then prunes recovery/
 * to the newest RECOVERY_KEEP set-aside files: a crash loop that damages the index on every start
 * must not fill the disk with index-sized copies (issue 11, point 2).
 */
export function setAside(dataDir: string, why: 'pre-restore' | 'corrupt', now: number): string {
  const moved = moveDatabase(indexFile(dataDir), path.join(recoveryDir(dataDir), `index.db.${stamp(now, true)}.${why}`));
  pruneRecovery(dataDir, RECOVERY_KEEP, moved);
  return moved;
}

/** Keeps the newest `keep` set-aside databases in recovery/ (never `spare`); returns what was removed. */
export function pruneRecovery(dataDir: string, keep: number, spare?: string): string[] {
  const dir = recoveryDir(dataDir);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const mains = names.filter((n) => /^index\.db\.\d{8}T\d{6}\d{3}Z\.(corrupt|pre-restore)(\.\d+)?$/.test(n)).sort().reverse();
  const removed: string[] = [];
  for (const n of mains.slice(keep)) {
    const f = path.join(dir, n);
    if (spare && path.resolve(f) === path.resolve(spare)) continue;
    for (const x of [f, ...sideFiles(f)]) fs.rmSync(x, { force: true });
    removed.push(n);
  }
  return removed;
}

/** Puts a set-aside file back after a restore could not be proven good. */
export function putBack(dataDir: string, aside: string | null): void {
  const live = indexFile(dataDir);
  for (const f of [live, ...sideFiles(live)]) fs.rmSync(f, { force: true });
  if (aside) moveDatabase(aside, live);
}

/**
 * The candidates for an automatic restore, newest first: backups of this installation (trusted
 * manifests, see distrust) that were verified, whose files are present, and whose whole chain is.
 * The stored verdict only ranks them: stageRestore checks every one again before it is used.
 */
export function verifiedBackups(dir: string, keys: readonly Buffer[] = []): Manifest[] {
  const all = listBackups(dir, keys);
  const usable = new Map(all.filter((b) => b.present && b.untrusted === null).map((b) => [b.manifest.id, b.manifest]));
  return all
    .filter((b) => b.present && b.untrusted === null && isVerified(b.manifest) && chainOf(b.manifest.id, usable).missing === null)
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
    if (running) throw owletError('OWL_ERR_SERVICE_RUNNING', { holder: `the Owlet service (pid ${running.pid})`, dataDir: o.dataDir, then: '; restore through it (the dashboard, or "owlet backup restore" while it runs)' });
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
