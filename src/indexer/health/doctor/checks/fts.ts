import { ftsConsistency, searchProbe } from '../../../store/stats.js';
import { REBUILD_FTS, rebuildFtsWithWriter } from '../rebuild-fts.js';
import type { DoctorCheck, DoctorFinding } from '../types.js';

/**
 * The full-text index agrees with the stored documents and a search runs. Skipped when the
 * integrity check already found the full-text index damaged (the same rebuild is offered there).
 */
export const ftsCheck: DoctorCheck = {
  id: 'fts',
  inspect(ctx) {
    if (!ctx.index || !ctx.integrity || ctx.integrity.ftsDamage) return [];
    const { db } = ctx.index;
    let fts: DoctorFinding;
    let canRebuild = false;
    try {
      const c = ftsConsistency(db);
      const probe = searchProbe(db);
      if (!probe.ok) {
        fts = { id: 'fts', name: 'Full-text index', status: 'failed', message: `searching fails: ${probe.message}` };
        canRebuild = true;
      } else if (c.missing > 0) {
        fts = { id: 'fts', name: 'Full-text index', status: 'failed', message: `${c.missing} indexed document(s) are missing from the full-text index (searches cannot find them)` };
        canRebuild = true;
      } else if (c.stale > 0) {
        fts = { id: 'fts', name: 'Full-text index', status: 'degraded', message: `${c.stale} full-text entr${c.stale === 1 ? 'y' : 'ies'} belong to no indexed document` };
        canRebuild = true;
      } else fts = { id: 'fts', name: 'Full-text index', status: 'ok', message: 'consistent with the stored documents, searchable' };
    } catch (e) {
      fts = { id: 'fts', name: 'Full-text index', status: 'failed', message: `unreadable: ${(e as Error).message}` };
      canRebuild = true;
      // An unreadable full-text index is damage the service should know of too.
      ctx.integrity.record = { ...ctx.integrity.record, ok: false, message: (e as Error).message };
    }
    return [canRebuild ? { ...fts, remedy: 'run "owlet doctor --fix" to rebuild it from the stored text', fix: REBUILD_FTS } : fts];
  },
  fix: { each: (_finding, ctx) => rebuildFtsWithWriter(ctx.dataDir) },
};
