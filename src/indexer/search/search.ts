import path from 'node:path';
import type { Db } from '../store/db.js';
import type { DocumentStore } from '../store/documents.js';
import { parseQuery, type ParsedQuery } from './query.js';
import { labelPrefilter, nameMatch, type LabelQuery } from './name-match.js';
import { makeSnippet } from './snippet.js';
import { Suggester } from './suggest.js';
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

/**
 * The score is BM25 over the columns plus `name` × how well the file name or title names the
 * query (name-match.ts, 0 to 1). BM25 column weights: title hits outrank body hits; a hit on
 * another form of a word (the stems column) counts less than the word as written. Tuned with
 * `npm run bench:relevance` on the tuning half of the judged query set (bench/relevance-queries.ts).
 */
export interface RankWeights {
  title: number;
  body: number;
  stems: number;
  /** What a file name or title that is exactly the query adds to the BM25 score. */
  name: number;
}
export const DEFAULT_WEIGHTS: RankWeights = { title: 1, body: 1, stems: 0.1, name: 20 };
export const TITLE_WEIGHT = DEFAULT_WEIGHTS.title;
export const BODY_WEIGHT = DEFAULT_WEIGHTS.body;

/** A query with fewer hits than this gets a "did you mean" when one finds more. */
export const FEW_HITS = 3;

export interface SearchOptions {
  /** Stemming languages, for recognising other forms of a word in snippets. */
  languages?: readonly string[];
  weights?: RankWeights;
}

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

function checkWeights(w: RankWeights): RankWeights {
  // They are written into the SQL text (bm25() takes constants): numbers only, never NaN or ±∞.
  for (const [k, v] of Object.entries(w)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RangeError(`rank weight ${k} must be a finite number ≥ 0, got ${String(v)}`);
  }
  return { ...w };
}

const NAME_MATCH_FN = 'owlet_name_match';
const registered = new WeakSet<Db>();

/**
 * Registers the name match on a connection: (path, title, query key) → 0…1. The key is the
 * query's terms and languages as JSON; consecutive rows of one search share it, so it is parsed
 * once per search.
 */
function registerNameMatch(db: Db): void {
  if (registered.has(db)) return;
  let lastKey = '';
  let last: LabelQuery = { terms: [], languages: [] };
  db.function(NAME_MATCH_FN, { deterministic: true }, (p: unknown, title: unknown, key: unknown) => {
    if (typeof p !== 'string' || typeof key !== 'string') return 0;
    if (key !== lastKey) {
      last = JSON.parse(key) as LabelQuery;
      lastKey = key;
    }
    return nameMatch(last, p, typeof title === 'string' ? title : null);
  });
  registered.add(db);
}

/** Runs parsed queries. Only bound parameters reach SQL; the MATCH text comes from the parser. */
export class SearchEngine {
  private readonly languages: readonly string[];
  private weights: RankWeights;
  private suggester: Suggester | null = null;

  constructor(private readonly db: Db, private readonly store: DocumentStore, opts: SearchOptions = {}) {
    this.languages = opts.languages ?? ['en'];
    this.weights = checkWeights(opts.weights ?? DEFAULT_WEIGHTS);
    registerNameMatch(db);
  }

  /** For the relevance benchmark's tuning runs. */
  setWeights(w: RankWeights): void {
    this.weights = checkWeights(w);
  }

  /**
   * Runs a query; `input` (the text as typed) is needed for a "did you mean" suggestion, which is
   * looked for only when the query has fewer than FEW_HITS hits.
   */
  search(q: ParsedQuery, page: SearchPage, input?: string): SearchResult {
    const result = this.run(q, page);
    if (input !== undefined && result.total < FEW_HITS && q.words.length > 0) {
      this.suggester ??= new Suggester(this.db);
      const s = this.suggester.suggest(input, q.words);
      // Offered only when it finds more than the query as typed (parseQuery cannot fail on it:
      // only words were replaced, by words of the index).
      if (s && this.run(parseQuery(s.query, { languages: this.languages }), { limit: 0, offset: 0, ...(page.roots ? { roots: page.roots } : {}) }).total > result.total) {
        result.suggestion = s;
      }
    }
    return result;
  }

  private run(q: ParsedQuery, page: SearchPage): SearchResult {
    const params: unknown[] = [];
    let from: string;
    let order: string;
    let score: string;
    const scoreParams: unknown[] = [];
    if (q.match !== null) {
      from = `docs_fts JOIN documents d ON d.id = docs_fts.rowid WHERE docs_fts MATCH ?`;
      params.push(q.match);
      const w = this.weights;
      score = `-bm25(docs_fts, ${w.title}, ${w.body}, ${w.stems})`;
      const prefilter = w.name > 0 ? labelPrefilter(q.highlight) : null;
      if (prefilter !== null) {
        // The name match is worked out only for documents whose title column can match a term.
        const key = JSON.stringify({ terms: q.highlight, languages: this.languages } satisfies LabelQuery);
        score = `(${score} + ${w.name} * CASE WHEN d.id IN (SELECT rowid FROM docs_fts WHERE docs_fts MATCH ?) THEN ${NAME_MATCH_FN}(d.path, d.title, ?) ELSE 0 END)`;
        scoreParams.push(prefilter, key);
      }
      order = 'ORDER BY score DESC, d.id';
      if (q.exact !== null) {
        // The forms as typed first: a document holding them ranks above one with other forms only.
        order = 'ORDER BY d.id IN (SELECT rowid FROM docs_fts WHERE docs_fts MATCH ?) DESC, score DESC, d.id';
      }
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
    const orderParams = q.match !== null && q.exact !== null ? [q.exact] : [];
    const rows = this.db
      .prepare(
        `SELECT d.id, d.path, d.title, d.mtime_ms AS mtimeMs, d.size, ${score} AS score FROM ${from} ${order} LIMIT ? OFFSET ?`,
      )
      .all(...scoreParams, ...params, ...orderParams, page.limit, page.offset) as Row[];
    // Snippets only for the page shown: the expensive part is bounded by `limit`, not by `total`.
    const hits: SearchHit[] = rows.map((r) => ({
      path: r.path,
      title: r.title ?? path.basename(r.path),
      score: Number(r.score.toPrecision(6)),
      snippet: makeSnippet(this.store.passages(r.id), q.highlight, { languages: this.languages }),
      mtime: new Date(r.mtimeMs).toISOString(),
      size: r.size,
    }));
    return { total, hits };
  }
}
