import fs from 'node:fs';
import path from 'node:path';
import { closeDatabase, openDatabase, type Db } from './db.js';
import { migrate, type Migration } from './migrations.js';
import { isOwletError } from '../../shared/errors.js';
import { fileHeaderIsPlain } from '../security/cipher.js';
import { rekeyCompanion } from './rekey.js';
import { convertedOpen } from './data-key.js';

export const METRICS_FILE = 'metrics.db';

/**
 * The monitoring database, separate from index.db so samples written every few seconds never
 * contend with index batches, and so it can be deleted at any time without losing the index.
 * It holds time series (tables ts_raw, ts_1m, ts_1h; see metrics/timeseries.ts), alert state and history,
 * service start/stop records (crash-loop detection), and small facts such as the last integrity
 * check. Forward-only migrations, like the index. It sits in store/ with the index's own SQL
 * because metrics/ writes it while health/, recovery and doctor read and record integrity in it.
 */
export const METRICS_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'key-value facts, service lifecycle, alerts, time-series tiers',
    up(db) {
      db.exec(`
        CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        -- One row per service start; stopped_at stays NULL when the process died without a clean stop.
        CREATE TABLE lifecycle (id INTEGER PRIMARY KEY, pid INTEGER NOT NULL, started_at INTEGER NOT NULL, stopped_at INTEGER);
        CREATE INDEX lifecycle_started ON lifecycle(started_at);
        CREATE TABLE alerts (
          id TEXT PRIMARY KEY,
          rule TEXT NOT NULL,
          state TEXT NOT NULL CHECK (state IN ('pending', 'firing', 'resolved')),
          severity TEXT NOT NULL,
          data TEXT NOT NULL,
          updated_at INTEGER NOT NULL
        );
        CREATE INDEX alerts_state ON alerts(state, updated_at);
        -- Signal columns are added on open (one REAL column per signal; rollups add <name>__max).
        CREATE TABLE ts_raw (t INTEGER PRIMARY KEY);
        CREATE TABLE ts_1m (t INTEGER PRIMARY KEY);
        CREATE TABLE ts_1h (t INTEGER PRIMARY KEY);
      `);
    },
  },
];


/**
 * Opens (creating if needed) `<dataDir>/metrics.db`. Incremental auto-vacuum is switched on before
 * the first table exists, so space freed by retention is returned to the file system.
 */
export function openMetricsDb(dataDir: string, key: Buffer | null, earlierKeys: Buffer[] = []): Db {
  const file = path.join(dataDir, METRICS_FILE);
  const fresh = !fs.existsSync(file);
  // Still under an earlier key of this install (a rotation interrupted before its companions were
  // swapped): re-keyed, not moved aside, so the history survives.
  if (!fresh && key && earlierKeys.length && fileHeaderIsPlain(file) === false) {
    try {
      closeDatabase(openDatabase(file, { key, readonly: true }));
    } catch (e) {
      if (!isOwletError(e) || e.code !== 'OWL_ERR_DB_KEY' || !rekeyCompanion(file, key, earlierKeys)) throw e;
    }
  }
  // Encrypted with the index's key when the index is encrypted: samples and alerts reveal activity.
  // A file still keyed the old way (PBKDF2 on every open) is converted once, like the index.
  const db = key ? convertedOpen(file, openDatabase(file, { key }), key).db : openDatabase(file);
  try {
    if (fresh) db.pragma('auto_vacuum = INCREMENTAL');
    migrate(db, METRICS_MIGRATIONS);
    fs.chmodSync(file, 0o600);
  } catch (e) {
    closeDatabase(db);
    throw e;
  }
  return db;
}

export function kvGet(db: Db, key: string): string | undefined {
  return (db.prepare('SELECT value FROM kv WHERE key = ?').get(key) as { value: string } | undefined)?.value;
}

export function kvSet(db: Db, key: string, value: string): void {
  db.prepare('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
}

/** The outcome of the last `PRAGMA integrity_check` of the index (by the service or by doctor). */
export interface IntegrityRecord {
  at: number;
  ok: boolean;
  /** "ok", or the first problems SQLite reported. */
  message: string;
  durationMs: number;
  by: 'service' | 'doctor';
}

export function readIntegrity(db: Db): IntegrityRecord | null {
  const v = kvGet(db, 'integrity.last');
  if (!v) return null;
  try {
    return JSON.parse(v) as IntegrityRecord;
  } catch {
    return null;
  }
}

export function writeIntegrity(db: Db, rec: IntegrityRecord): void {
  kvSet(db, 'integrity.last', JSON.stringify(rec));
}

/** Records this service start; returns the row id to mark a clean stop with. */
export function recordStart(db: Db, pid: number, now: number): number {
  // Start records older than 90 days say nothing about a crash loop.
  db.prepare('DELETE FROM lifecycle WHERE started_at < ?').run(now - 90 * 86_400_000);
  return Number(db.prepare('INSERT INTO lifecycle (pid, started_at) VALUES (?, ?)').run(pid, now).lastInsertRowid);
}

export function recordStop(db: Db, id: number, now: number): void {
  db.prepare('UPDATE lifecycle SET stopped_at = ? WHERE id = ?').run(now, id);
}

/** Earlier service runs that started within `windowMs` and never stopped cleanly (crashed or killed). */
export function uncleanStarts(db: Db, currentId: number, now: number, windowMs: number): number {
  return (db.prepare('SELECT count(*) AS n FROM lifecycle WHERE id <> ? AND stopped_at IS NULL AND started_at >= ?').get(currentId, now - windowMs) as { n: number }).n;
}
