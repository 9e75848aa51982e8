import type { Db } from './db.js';

/**
 * Read-only questions about the full-text index, asked by health checks and `owlet doctor` (the
 * SQL stays here, in store/, beside the schema it depends on).
 */

/** Indexed documents without a full-text entry, and entries without an indexed document. Throws on a damaged index. */
export function ftsConsistency(db: Db): { missing: number; stale: number } {
  const ids = new Set((db.prepare('SELECT rowid FROM docs_fts').pluck().all() as number[]).map(Number));
  let missing = 0;
  let indexed = 0;
  for (const id of db.prepare(`SELECT id FROM documents WHERE status = 'indexed'`).pluck().iterate() as Iterable<number>) {
    indexed++;
    if (!ids.has(id)) missing++;
  }
  return { missing, stale: Math.max(0, ids.size - (indexed - missing)) };
}

const probes = new WeakMap<Db, { run(): unknown }>();

/** A real (tiny) full-text query: proves the FTS index answers, not only that the file is open. */
export function ftsProbe(db: Db): { ok: boolean; message?: string } {
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
