import { closeDatabase } from '../../../store/db.js';
import { openMetricsDb, writeIntegrity } from '../../../store/metrics-db.js';
import type { DoctorCheck } from '../types.js';

/**
 * Keeps the verdict of the integrity and fts checks in metrics.db, where the service's health
 * report reads the last integrity check. Reports nothing itself, and runs before the metrics check
 * (writing the verdict creates metrics.db when there was none).
 */
export const recordIntegrity: DoctorCheck = {
  id: 'record-integrity',
  inspect(ctx) {
    if (!ctx.index || !ctx.integrity) return [];
    try {
      const mdb = openMetricsDb(ctx.dataDir, ctx.index.key);
      try {
        writeIntegrity(mdb, ctx.integrity.record);
      } finally {
        closeDatabase(mdb);
      }
    } catch {
      // A broken metrics.db is its own finding; the verdict is still printed.
    }
    return [];
  },
};
