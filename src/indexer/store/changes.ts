import type Database from 'better-sqlite3-multiple-ciphers';

/**
 * The index's own change tracking (migration 4), read by incremental backups: which documents
 * were added, changed or removed after a given change sequence number, and where a document's
 * passages live in doc_text (ids doc_id << 20 + seq, see migration 3).
 */

export const PASSAGE_ID_SHIFT = 1_048_576;

export function hasChangeTracking(db: Database.Database): boolean {
  return (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'doc_tombstones'").get() as { n: number }).n === 1;
}

/** The newest change sequence number (0 when nothing was ever written). */
export function currentChangeSeq(db: Database.Database): number {
  const r = db.prepare("SELECT CAST(value AS INTEGER) AS v FROM meta WHERE key = 'change_seq'").get() as { v: number } | undefined;
  return r?.v ?? 0;
}

/** Passage ids of document `id`: [from, to). */
export function passageRange(id: number | bigint): [bigint, bigint] {
  const from = BigInt(id) * BigInt(PASSAGE_ID_SHIFT);
  return [from, from + BigInt(PASSAGE_ID_SHIFT)];
}

/** The tables incremental backups handle row by row; every other row table is small and copied whole. */
export const TRACKED_TABLES = ['documents', 'doc_text', 'doc_tombstones'] as const;

export function indexUuid(db: Database.Database): string | null {
  const r = db.prepare("SELECT value FROM meta WHERE key = 'index_uuid'").get() as { value: string } | undefined;
  return r?.value ?? null;
}

/** A restored index starts a new history (see migration 4). */
export function newIndexHistory(db: Database.Database): void {
  db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('index_uuid', lower(hex(randomblob(16))))").run();
}
