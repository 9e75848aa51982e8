import type Database from 'better-sqlite3-multiple-ciphers';
import { openRaw } from '../../src/indexer/backup/sqlite.js';

export interface DbBreakdown {
  pageSize: number;
  pageCount: number;
  freelistPages: number;
  /** Per table or index: bytes of pages, bytes of payload in them, bytes left unused; largest first. */
  objects: { name: string; bytes: number; payload: number; unused: number; overflowBytes: number; overflowUnused: number }[];
}

/** Where the bytes of an SQLite file go (the dbstat virtual table); null if dbstat is not compiled in. */
export function dbBreakdown(file: string, key: Buffer | null = null): DbBreakdown | null {
  let db: Database.Database;
  try {
    // Owlet's index is encrypted at rest: keyed as Owlet keys it (raw key, or the legacy keying).
    db = openRaw(file, { key, readonly: true });
  } catch {
    return null;
  }
  try {
    const rows = db
      .prepare(
        `SELECT name, sum(pgsize) AS bytes, sum(payload) AS payload, sum(unused) AS unused,
                sum(CASE WHEN pagetype = 'overflow' THEN pgsize ELSE 0 END) AS overflowBytes,
                sum(CASE WHEN pagetype = 'overflow' THEN unused ELSE 0 END) AS overflowUnused
           FROM dbstat GROUP BY name ORDER BY bytes DESC`,
      )
      .all() as DbBreakdown['objects'];
    return {
      pageSize: db.pragma('page_size', { simple: true }) as number,
      pageCount: db.pragma('page_count', { simple: true }) as number,
      freelistPages: db.pragma('freelist_count', { simple: true }) as number,
      objects: rows.filter((r) => r.bytes >= 64 * 1024),
    };
  } catch {
    return null;
  } finally {
    db.close();
  }
}
