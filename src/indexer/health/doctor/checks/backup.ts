import { checkBackup, type BackupInfo } from '../../checks.js';
import { backupSettings } from '../../../backup/local.js';
import { isVerified, listBackups } from '../../../backup/manifest.js';
import { backupDir } from '../../../backup/paths.js';
import type { DoctorCheck } from '../types.js';
import { snapshotOf } from './disk.js';

/**
 * Without a service, the backup folder itself says when the last verified backup was made (this
 * build always has the backup feature: `undefined` would claim it has none).
 */
function backupsOnDisk(dataDir: string): BackupInfo | null {
  try {
    const settings = backupSettings(dataDir);
    const dir = backupDir(dataDir, settings);
    const newest = listBackups(dir).find((b) => b.present && isVerified(b.manifest));
    const at = newest?.manifest.verification?.at ?? null;
    return { lastVerifiedAt: at ? Date.parse(at) : null, destination: dir };
  } catch {
    return null;
  }
}

/** The age of the last verified backup, when no live service reports it (live-service does then). */
export const backupCheck: DoctorCheck = {
  id: 'backup',
  inspect(ctx) {
    if (ctx.service.live) return [];
    return [checkBackup({ ...snapshotOf(ctx.now, ctx.space), backup: backupsOnDisk(ctx.dataDir) })];
  },
};
