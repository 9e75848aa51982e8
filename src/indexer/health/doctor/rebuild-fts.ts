import { withDataLock } from '../../service/data-lock.js';
import { openIndex } from '../../service/context.js';
import { rebuildFts } from '../../store/fts-rebuild.js';
import { backupBeforeMigration } from '../../backup/migration.js';

/** The remedy the integrity and fts checks share; the runner applies it once even when both offer it. */
export const REBUILD_FTS = 'rebuild the full-text index from the stored text';

/** Rebuilds the full-text index from the stored (compressed) text. */
export async function rebuildFtsWithWriter(dataDir: string): Promise<string> {
  // Writes the index: never beside a service (it would fail with "database is locked" half-way).
  return withDataLock(dataDir, 'doctor --fix', () => {
    const ctx = openIndex(dataDir, { beforeMigrate: backupBeforeMigration });
    try {
      const n = rebuildFts(ctx.db);
      return `rebuilt the full-text index from the stored text (${n} document${n === 1 ? '' : 's'})`;
    } finally {
      ctx.close();
    }
  });
}
