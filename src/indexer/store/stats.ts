import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3-multiple-ciphers';
import { SCHEMA_VERSION, schemaVersion } from './schema-version.js';

/**
 * The figures every part of Owlet reports about the index, each defined once here so that the
 * index summary, status, the dashboard, health and backups say the same thing:
 *
 *   documents      rows with status 'indexed': searchable documents. Skipped and failed files are
 *                  counted separately and never called documents.
 *   bytes          total size of the source files of the indexed documents.
 *   database size  index.db plus its WAL on disk (what the index costs the user).
 */

/** Any connection to an index file (the service's, a read-only CLI one, a raw backup copy). */
type AnyDb = Database.Database;

export const INDEX_FILE = 'index.db';

export function indexPath(dataDir: string): string {
  return path.join(dataDir, INDEX_FILE);
}

function sizeOf(f: string): number {
  try {
    return fs.statSync(f).size;
  } catch {
    return 0;
  }
}

/** The index on disk: the database file and its write-ahead log. `total` is "database size". */
export function databaseFiles(dataDir: string): { bytes: number; walBytes: number; total: number } {
  const file = indexPath(dataDir);
  const bytes = sizeOf(file);
  const walBytes = sizeOf(file + '-wal');
  return { bytes, walBytes, total: bytes + walBytes };
}

function hasTable(db: AnyDb, name: string): boolean {
  return (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) as { n: number }).n > 0;
}

/** Every file the index knows (indexed, skipped or failed): the row count a restore must reproduce. */
export function documentRows(db: AnyDb): number {
  if (!hasTable(db, 'documents')) return 0;
  return (db.prepare('SELECT count(*) AS n FROM documents').get() as { n: number }).n;
}

/** Searchable documents (status 'indexed'): what "N documents" means everywhere. */
export function indexedDocuments(db: AnyDb): number {
  if (!hasTable(db, 'documents')) return 0;
  return (db.prepare("SELECT count(*) AS n FROM documents WHERE status = 'indexed'").get() as { n: number }).n;
}

/** Paths of the searchable documents, sorted (tests and checks compare them with the disk). */
export function indexedPathList(db: AnyDb): string[] {
  return (db.prepare("SELECT path FROM documents WHERE status = 'indexed' ORDER BY path").pluck().all() as string[]).sort();
}

export function retryQueueSize(db: AnyDb): number {
  if (!hasTable(db, 'retry_queue')) return 0;
  return (db.prepare('SELECT count(*) AS n FROM retry_queue').get() as { n: number }).n;
}

/** Files not tried again until they change: attempts at or above the quarantine threshold. */
export function quarantinedFiles(db: AnyDb, attempts: number): number {
  if (!hasTable(db, 'extraction_attempts')) return 0;
  return (db.prepare('SELECT count(*) AS n FROM extraction_attempts WHERE attempts >= ?').get(attempts) as { n: number }).n;
}

/** Indexed documents without a full-text entry, and entries without an indexed document. Throws on a damaged index. */
export function ftsConsistency(db: AnyDb): { missing: number; stale: number } {
  const ids = new Set((db.prepare('SELECT rowid FROM docs_fts').pluck().all() as number[]).map(Number));
  let missing = 0;
  let indexed = 0;
  for (const id of db.prepare(`SELECT id FROM documents WHERE status = 'indexed'`).pluck().iterate() as Iterable<number>) {
    indexed++;
    if (!ids.has(Number(id))) missing++;
  }
  return { missing, stale: Math.max(0, ids.size - (indexed - missing)) };
}

const probes = new WeakMap<AnyDb, { run(): unknown }>();

/** A real (tiny) full-text query: proves the FTS index answers, not only that the file is open. */
export function searchProbe(db: AnyDb): { ok: boolean; message?: string } {
  try {
    let stmt = probes.get(db);
    if (!stmt) {
      const s = db.prepare(`SELECT rowid FROM docs_fts WHERE docs_fts MATCH '"owletreadinessprobe"' LIMIT 1`);
      stmt = { run: () => s.get() };
      probes.set(db, stmt);
    }
    stmt.run();
    return { ok: true };
  } catch (e) {
    return { ok: false, message: e instanceof Error ? e.message : String(e) };
  }
}

/** Why an open connection cannot serve (empty when it can): schema current, a search runs. */
export function servingProblems(db: AnyDb): string[] {
  const reasons: string[] = [];
  if (!db.open) return ['the index database is not open'];
  const v = schemaVersion(db);
  if (v !== SCHEMA_VERSION) reasons.push(`the index schema is ${v}, expected ${SCHEMA_VERSION}`);
  const s = searchProbe(db);
  if (!s.ok) reasons.push(`search fails: ${s.message}`);
  return reasons;
}
