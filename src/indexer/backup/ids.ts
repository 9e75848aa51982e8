import path from 'node:path';
import { owletError } from '../../shared/errors.js';

/**
 * The one pattern a backup id has, used by the CLI, the HTTP API and the worker alike: UTC time
 * to the second, `Z`, a dash and 4 hex digits (newBackupId). Anything else, a path above all, is
 * refused before it reaches the file system.
 */
export const BACKUP_ID_PATTERN = /^\d{8}T\d{6}Z-[0-9a-f]{4}$/;

export function isBackupId(id: unknown): id is string {
  return typeof id === 'string' && BACKUP_ID_PATTERN.test(id);
}

export function assertBackupId(id: unknown): string {
  if (!isBackupId(id)) {
    const shown = typeof id === 'string' ? JSON.stringify(id.slice(0, 80)) : typeof id;
    throw owletError('OWL_ERR_BACKUP_BAD_ID', { shown, where: '' });
  }
  return id;
}

/**
 * A file of the backup folder named from an id: the id is checked, and the resolved path must
 * stay directly inside `dir` (a second line of defence should the pattern ever loosen).
 */
export function insideBackupDir(dir: string, name: string): string {
  const root = path.resolve(dir);
  const p = path.resolve(root, name);
  if (path.dirname(p) !== root) throw owletError('OWL_ERR_BACKUP_BAD_ID', { shown: JSON.stringify(name.slice(0, 80)), where: `: it resolves outside ${root}` });
  return p;
}
