import { nullLogger, type Logger } from '../log/logger.js';
import { SCHEMA_VERSION, schemaVersion } from '../store/migrations.js';
import { createBackupSync, type CreateOutcome } from './create.js';
import { DEFAULT_BACKUP_CONFIG, type BackupConfig } from '../config/backup-settings.js';
import { documentCount, type RawDb } from './sqlite.js';

/**
 * Called by openIndex before `migrate(db)`: when a migration is pending and the index holds
 * documents, a verified backup is taken first, so a migration that goes wrong (or a downgrade)
 * can be undone with `owlet backup restore`. A failed or skipped backup is recorded and
 * reported, and the migration goes ahead: each migration runs in its own transaction, and
 * refusing to start would leave the user without search.
 */
export function backupBeforeMigration(o: { db: RawDb; key: Buffer | null; dataDir: string; config: { backup?: BackupConfig }; log?: Logger }): CreateOutcome | null {
  const settings = o.config.backup ?? DEFAULT_BACKUP_CONFIG;
  if (!settings.enabled) return null;
  const from = schemaVersion(o.db);
  if (from === 0 || from >= SCHEMA_VERSION) return null;
  if (documentCount(o.db) === 0) return null;
  const log = o.log ?? nullLogger;
  try {
    const out = createBackupSync({ dataDir: o.dataDir, settings, key: o.key, log, db: o.db }, 'pre-migration');
    log.info('backup before schema migration', { from, to: SCHEMA_VERSION, status: out.status });
    return out;
  } catch (e) {
    log.error('backup before schema migration failed; migrating anyway', { from, to: SCHEMA_VERSION, error: e });
    return null;
  }
}
