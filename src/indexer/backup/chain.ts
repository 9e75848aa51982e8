import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { OwletError } from '../../shared/errors.js';
import { assertBackupId } from './ids.js';
import { backupFile, chainOf, distrust, listBackups, readManifest, type Manifest } from './manifest.js';

/**
 * The backups a restore of `id` reads: its full backup and every increment up to it. Each must be
 * present, trusted (distrust) and match its checksum; the first that does not is named in the
 * error. Used by restore and verify alike.
 */
export function resolveChain(dir: string, id: string, keys: readonly Buffer[], now: number = Date.now()): Manifest[] {
  assertBackupId(id);
  const target = readManifest(dir, id);
  if (!target) throw new OwletError('OWL_ERR_BACKUP_NOT_FOUND', `no backup "${id}" in ${dir}; "owlet backup list" shows the ids`);
  const byId = new Map(listBackups(dir).map((b) => [b.manifest.id, b.manifest]));
  byId.set(target.id, target);
  const { chain, missing } = chainOf(id, byId);
  if (missing) throw new OwletError('OWL_ERR_BACKUP_INVALID', `backup ${id} is an increment whose chain is broken: backup ${missing} is missing; restore an earlier complete backup`);
  for (const m of chain) {
    const why = distrust(m, keys, now);
    if (why) throw new OwletError('OWL_ERR_BACKUP_INVALID', why);
    const file = backupFile(dir, m);
    let size: number;
    try {
      size = fs.statSync(file).size;
    } catch {
      throw new OwletError('OWL_ERR_BACKUP_INVALID', `backup file ${path.basename(file)} is missing`);
    }
    if (size !== m.size || sha256Of(file) !== m.sha256) throw new OwletError('OWL_ERR_BACKUP_INVALID', `backup file ${path.basename(file)} does not match its checksum (changed or damaged since it was written)`);
  }
  return chain;
}

export function sha256Of(file: string): string {
  const h = crypto.createHash('sha256');
  const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
  const fd = fs.openSync(file, 'r');
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}
