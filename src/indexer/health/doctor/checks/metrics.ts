import fs from 'node:fs';
import path from 'node:path';
import { openIndex } from '../../../service/context.js';
import { withDataLock } from '../../../service/data-lock.js';
import { closeDatabase } from '../../../store/db.js';
import { METRICS_FILE, openMetricsDb } from '../../../store/metrics-db.js';
import type { DoctorCheck } from '../types.js';

/** The index key, if any, for opening metrics.db the way the service does. */
function keyOf(dataDir: string): Buffer | null {
  try {
    const c = openIndex(dataDir, { readonly: true });
    try {
      return c.key;
    } finally {
      c.close();
    }
  } catch {
    return null;
  }
}

/** Why metrics.db cannot be read, or null when it can. */
function unreadable(dataDir: string, indexKey: Buffer | null | undefined): string | null {
  try {
    const mdb = openMetricsDb(dataDir, indexKey === undefined ? keyOf(dataDir) : indexKey);
    try {
      const qc = mdb.pragma('quick_check', { simple: true });
      return qc === 'ok' ? null : String(qc);
    } finally {
      closeDatabase(mdb);
    }
  } catch (e) {
    return (e as Error).message;
  }
}

/** metrics.db, when there is one, is readable; or it is moved aside (only monitoring history is lost). */
export const metricsCheck: DoctorCheck = {
  id: 'metrics',
  inspect(ctx) {
    if (!fs.existsSync(path.join(ctx.dataDir, METRICS_FILE))) return [];
    const problem = unreadable(ctx.dataDir, ctx.indexKey);
    if (!problem) return [{ id: 'metrics', name: 'Metrics database', status: 'ok', message: 'readable' }];
    return [
      { id: 'metrics', name: 'Metrics database', status: 'degraded', message: `unreadable: ${problem}`, remedy: 'move metrics.db aside; a new one is created (only monitoring history is lost)', fix: 'move metrics.db aside (a new one is created at the next start)' },
    ];
  },
  fix: {
    each: (_finding, ctx) =>
      withDataLock(ctx.dataDir, 'doctor --fix', () => {
        const metricsFile = path.join(ctx.dataDir, METRICS_FILE);
        const aside = `${metricsFile}.broken-${ctx.now}`;
        for (const s of ['', '-wal', '-shm']) if (fs.existsSync(metricsFile + s)) fs.renameSync(metricsFile + s, aside + s);
        return `moved metrics.db to ${path.basename(aside)}`;
      }),
  },
};
