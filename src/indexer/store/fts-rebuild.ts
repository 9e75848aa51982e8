import type Database from 'better-sqlite3-multiple-ciphers';
import { DocumentStore, ftsTitle } from './documents.js';
import { storedLanguages } from './languages.js';

/**
 * Rebuilds the full-text index from the stored document rows and their compressed passages: the
 * repair for damage limited to the FTS index (used by backup recovery and `owlet doctor --fix`).
 * `docs_fts` is contentless, so it cannot rebuild itself: every entry is deleted ('delete-all')
 * and each indexed document is inserted again with the same title text and body the indexer
 * writes. One transaction, so an interruption leaves the old index, never a half-built one.
 * Returns the number of documents indexed again.
 */
export function rebuildFts(
  db: Database.Database,
  opts: { onProgress?: (done: number, total: number) => void; languages?: readonly string[] } = {},
): number {
  const store = new DocumentStore(db, Date.now, { languages: opts.languages ?? storedLanguages(db) });
  const rows = db.prepare<[], { id: number; path: string; title: string | null; lang: string | null }>(
    "SELECT id, path, title, lang FROM documents WHERE status = 'indexed' ORDER BY id",
  );
  const total = (db.prepare("SELECT count(*) AS n FROM documents WHERE status = 'indexed'").get() as { n: number }).n;
  let done = 0;
  db.transaction(() => {
    db.prepare("INSERT INTO docs_fts (docs_fts) VALUES ('delete-all')").run();
    for (const r of rows.all()) {
      store.insertFts(r.id, ftsTitle(r.title, r.path), store.text(r.id), r.lang);
      done++;
      if (opts.onProgress && done % 500 === 0) opts.onProgress(done, total);
    }
  }).immediate();
  opts.onProgress?.(done, total);
  return done;
}
