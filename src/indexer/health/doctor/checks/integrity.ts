import { integrityCheck } from '../../../store/integrity-check.js';
import { REBUILD_FTS, rebuildFtsWithWriter } from '../rebuild-fts.js';
import type { DoctorCheck } from '../types.js';

const NAME = 'Integrity (PRAGMA integrity_check)';

/**
 * A full `PRAGMA integrity_check` of the open index. Damage confined to the full-text index can be
 * rebuilt from the stored text; other damage needs a backup or a new index. The verdict is kept for
 * the service (record-integrity).
 */
export const integrityCheckOfIndex: DoctorCheck = {
  id: 'integrity',
  inspect(ctx) {
    if (!ctx.index) return [];
    const ic = integrityCheck(ctx.index.db);
    const ftsDamage = !ic.ok && /fts5|docs_fts/i.test(ic.message);
    ctx.integrity = { record: { at: ctx.now, ok: ic.ok, message: ic.message, durationMs: ic.durationMs, by: 'doctor' }, ftsDamage };
    if (ic.ok) return [{ id: 'integrity', name: NAME, status: 'ok', message: `no damage found (${ic.durationMs} ms)` }];
    if (ftsDamage) return [{ id: 'integrity', name: NAME, status: 'failed', message: `the full-text index is damaged: ${ic.message}`, remedy: 'run "owlet doctor --fix" to rebuild it from the stored text', fix: REBUILD_FTS }];
    return [{ id: 'integrity', name: NAME, status: 'failed', message: `damage found: ${ic.message}`, remedy: 'restore a backup; or move index.db aside and index again with "owlet index"' }];
  },
  fix: { each: (_finding, ctx) => rebuildFtsWithWriter(ctx.dataDir) },
};
