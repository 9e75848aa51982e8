import path from 'node:path';
import type { Db } from '../store/db.js';
import type { DocumentStore } from '../store/documents.js';
import type { ParsedQuery } from './query.js';
import { makeSnippet } from './snippet.js';
import type { SearchHit, SearchResult } from '../../shared/api.js';

export interface SearchPage {
  limit: number;
  offset: number;
  /**
   * The configured roots (absolute): documents of a root removed from the configuration are kept
   * in the index (re-adding it is instant) but never found. Absent: every root (tests, tools).
   */
  roots?: readonly string[];
}

function rootScopeSql(roots: readonly string[] | undefined, params: unknown[]): string {
  if (roots === undefined) return '';
  if (roots.length === 0) return ' AND 0';
  params.push(...roots);
  return ` AND d.root_id IN (SELECT id FROM roots WHERE path IN (${roots.map(() => '?').join(', ')}))`;
}

/** Title hits outrank body hits: BM25 column weights (title, body). */
export const TITLE_WEIGHT = 10;
export const BODY_WEIGHT = 1;

interface Row {
  id: number;
  path: string;
  title: string | null;
  mtimeMs: number;
  size: number;
  score: number;
}

function filterSql(q: ParsedQuery, params: unknown[]): string {
  const parts: string[] = [];
  const { ext, path: paths, afterMs, beforeMs } = q.filters;
  if (ext.length) {
    parts.push(`d.ext IN (${ext.map(() => '?').join(', ')})`);
    params.push(...ext);
  }
  for (const p of paths) {
    // Substring match on the absolute path; users type '/', Windows stores '\'.
    parts.push('instr(d.path, ?) > 0');
    params.push(p.split('/').join(path.sep));
  }
  if (afterMs !== undefined) {
    parts.push('d.mtime_ms >= ?');
    params.push(afterMs);
  }
  if (beforeMs !== undefined) {
    parts.push('d.mtime_ms < ?');
    params.push(beforeMs);
  }
  return parts.map((p) => ` AND ${p}`).join('');
}

/** Runs parsed queries. Only bound parameters reach SQL; the MATCH text comes from the parser. */
export class SearchEngine {
  constructor(private readonly db: Db, private readonly store: DocumentStore) {}

  search(q: ParsedQuery, page: SearchPage): SearchResult {
    const params: unknown[] = [];
    let from: string;
    let order: string;
    let score: string;
    if (q.match !== null) {
      from = `docs_fts JOIN documents d ON d.id = docs_fts.rowid WHERE docs_fts MATCH ?`;
      params.push(q.match);
      score = `-bm25(docs_fts, ${TITLE_WEIGHT}, ${BODY_WEIGHT})`;
      order = 'ORDER BY score DESC, d.id';
    } else {
      from = `documents d WHERE d.status = 'indexed'`;
      if (q.exclude !== null) {
        from += ' AND d.id NOT IN (SELECT rowid FROM docs_fts WHERE docs_fts MATCH ?)';
        params.push(q.exclude);
      }
      score = '0';
      order = 'ORDER BY d.mtime_ms DESC, d.id';
    }
    from += filterSql(q, params) + rootScopeSql(page.roots, params);
    const total = (this.db.prepare(`SELECT count(*) AS n FROM ${from}`).get(...params) as { n: number }).n;
    const rows = this.db
      .prepare(
        `SELECT d.id, d.path, d.title, d.mtime_ms AS mtimeMs, d.size, ${score} AS score FROM ${from} ${order} LIMIT ? OFFSET ?`,
      )
      .all(...params, page.limit, page.offset) as Row[];
    // Snippets only for the page shown: the expensive part is bounded by `limit`, not by `total`.
    const hits: SearchHit[] = rows.map((r) => ({
      path: r.path,
      title: r.title ?? path.basename(r.path),
      score: Number(r.score.toPrecision(6)),
      snippet: makeSnippet(this.store.passages(r.id), q.highlight),
      mtime: new Date(r.mtimeMs).toISOString(),
      size: r.size,
    }));
    return { total, hits };
  }
}
