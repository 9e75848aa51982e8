/**
 * The raw FTS5 baseline: the same text Owlet extracted, read back from Owlet's index, inserted into
 * a plain content-storing FTS5 table in large transactions. It shows what SQLite alone costs for
 * the write side (no extraction, no passages, no bookkeeping) and for the same queries.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3-multiple-ciphers';
import { parseQuery } from '../src/indexer/search/query.js';
import { openIndex } from '../src/indexer/service/context.js';
import { ftsTitle } from '../src/indexer/store/documents.js';
import { dbBreakdown, type DbBreakdown } from './lib/dbstat.js';
import { fileBytes } from './lib/fsutil.js';
import { round, summarize, type Summary } from './lib/stats.js';
import { LIMIT, type BenchQuery } from './queries.js';

export interface BaselineQuery {
  id: string;
  match: string | null;
  count: number;
  plain: Summary;
  snippet: Summary;
}

export interface BaselineResult {
  docs: number;
  textBytes: number;
  /** Reading every document's text back out of Owlet's index (not part of the baseline's cost). */
  readBackS: number;
  /** Inserts in transactions of `txDocs` documents, plus the final WAL checkpoint. */
  insertS: number;
  txDocs: number;
  docsPerS: number;
  textMbPerS: number;
  dbBytes: number;
  /** dbBytes / corpus bytes. */
  indexFraction: number;
  reps: number;
  overallPlain: Summary;
  overallSnippet: Summary;
  queries: BaselineQuery[];
  sqliteVersion: string;
  dbstat: DbBreakdown | null;
}

export function runBaseline(owletDataDir: string, workDir: string, corpusBytes: number, queries: readonly BenchQuery[], reps: number, warmup: number): BaselineResult {
  // 1. The extracted text, as Owlet stored it.
  const t0 = performance.now();
  const ctx = openIndex(owletDataDir, { readonly: true });
  const docs: { title: string; body: string }[] = [];
  let textBytes = 0;
  try {
    const rows = ctx.db.prepare("SELECT id, path, title FROM documents WHERE status = 'indexed' ORDER BY id").all() as { id: number; path: string; title: string | null }[];
    for (const r of rows) {
      const body = ctx.store.text(r.id);
      textBytes += Buffer.byteLength(body, 'utf8');
      docs.push({ title: ftsTitle(r.title, r.path), body });
    }
  } finally {
    ctx.close();
  }
  const readBackS = (performance.now() - t0) / 1000;

  // 2. Plain FTS5, content stored in the table, big transactions.
  const file = path.join(workDir, 'baseline.db');
  const db = new Database(file);
  const txDocs = 1000;
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(`CREATE VIRTUAL TABLE fts USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 2')`);
    const ins = db.prepare('INSERT INTO fts (title, body) VALUES (?, ?)');
    const batch = db.transaction((slice: { title: string; body: string }[]) => {
      for (const d of slice) ins.run(d.title, d.body);
    });
    const t1 = performance.now();
    for (let i = 0; i < docs.length; i += txDocs) batch(docs.slice(i, i + txDocs));
    db.pragma('wal_checkpoint(TRUNCATE)');
    const insertS = (performance.now() - t1) / 1000;
    const dbBytes = fileBytes(file) + fileBytes(file + '-wal');

    // 3. The same queries (Owlet's parser produces the MATCH text), bm25 rank, limit 10.
    const plainStmt = db.prepare(`SELECT rowid, title FROM fts WHERE fts MATCH ? ORDER BY rank LIMIT ${LIMIT}`);
    const snipStmt = db.prepare(
      `SELECT rowid, title, snippet(fts, 1, '<mark>', '</mark>', '…', 24) AS snip FROM fts WHERE fts MATCH ? ORDER BY rank LIMIT ${LIMIT}`,
    );
    const countStmt = db.prepare('SELECT count(*) AS n FROM fts WHERE fts MATCH ?');
    const out: BaselineQuery[] = [];
    const allPlain: number[] = [];
    const allSnip: number[] = [];
    // FTS5's snippet() tokenises whole documents: on big ones a query can take hundreds of ms, so
    // each (query, variant) gets at most `budgetMs` of timed runs (and at least 5 runs).
    const budgetMs = 5000;
    const time = (stmt: Database.Statement, match: string): number[] => {
      const w0 = performance.now();
      for (let i = 0; i < warmup && performance.now() - w0 < budgetMs / 5; i++) stmt.all(match);
      const ms: number[] = [];
      const t0 = performance.now();
      for (let i = 0; i < reps && (i < 5 || performance.now() - t0 < budgetMs); i++) {
        const s = performance.now();
        stmt.all(match);
        ms.push(performance.now() - s);
      }
      return ms;
    };
    for (const bq of queries) {
      // No stemming languages: the baseline table has only the words as written (no stems column).
      const match = parseQuery(bq.q, { languages: [] }).match;
      if (match === null) continue;
      const plain = time(plainStmt, match);
      const snip = time(snipStmt, match);
      allPlain.push(...plain);
      allSnip.push(...snip);
      out.push({ id: bq.id, match, count: (countStmt.get(match) as { n: number }).n, plain: summarize(plain), snippet: summarize(snip) });
    }
    return {
      docs: docs.length,
      textBytes,
      readBackS: round(readBackS, 2),
      insertS: round(insertS, 2),
      txDocs,
      docsPerS: round(docs.length / insertS, 1),
      textMbPerS: round(textBytes / 1048576 / insertS, 2),
      dbBytes,
      indexFraction: round(dbBytes / corpusBytes, 4),
      reps,
      overallPlain: summarize(allPlain),
      overallSnippet: summarize(allSnip),
      queries: out,
      sqliteVersion: (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v,
      dbstat: null,
    };
  } finally {
    db.close();
  }
}

/** runBaseline plus where the baseline's bytes go (read after the database is closed). */
export function runBaselineWithStats(...args: Parameters<typeof runBaseline>): BaselineResult {
  const r = runBaseline(...args);
  return { ...r, dbstat: dbBreakdown(path.join(args[1], 'baseline.db')) };
}
