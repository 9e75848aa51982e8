import path from 'node:path';
import type Database from 'better-sqlite3-multiple-ciphers';
import type { Db } from '../store/db.js';
import type { DocumentStore } from '../store/documents.js';
import { parseQuery, type ParsedQuery } from './query.js';
import { labelPrefilter, nameMatch, type LabelQuery } from './name-match.js';
import { makeSnippet } from './snippet.js';
import { RankBound } from './rank-bound.js';
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
 * When a query has other forms, the documents holding the forms as typed come first and their
 * BM25 weighs those forms only (the query compiled without expansion); the documents holding
 * other forms only follow, their BM25 over every form (reported half unchanged or better:
 * MRR@10 0.845 → 0.848, nDCG@10 0.836 → 0.839).
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
  /**
   * False ranks every hit of a big tier, never only its named documents (rank-bound.ts): the
   * reference the tests compare the bounded ranking with. Default true.
   */
  boundedRanking?: boolean;
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

type Statement = Database.Statement<unknown[]>;

/**
 * Tiers smaller than this are ranked whole: the bound's own statements (a count per phrase) cost
 * about what scoring a few hundred rows does.
 */
const BOUNDED_TIER_ROWS = 500;

const SELECT = 'SELECT d.id, d.path, d.title, d.mtime_ms AS mtimeMs, d.size';
const FROM = 'FROM docs_fts JOIN documents d ON d.id = docs_fts.rowid WHERE docs_fts MATCH ?';
const ORDER = 'ORDER BY score DESC, d.id LIMIT ? OFFSET ?';

/** Distinct statement shapes kept prepared; more only come from unusual filter combinations. */
const STATEMENT_CACHE_LIMIT = 64;

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
  private readonly statements = new Map<string, Statement>();
  private bound: RankBound | null = null;
  private readonly boundedRanking: boolean;

  constructor(private readonly db: Db, private readonly store: DocumentStore, opts: SearchOptions = {}) {
    this.languages = opts.languages ?? ['en'];
    this.weights = checkWeights(opts.weights ?? DEFAULT_WEIGHTS);
    this.boundedRanking = opts.boundedRanking ?? true;
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
    const scope: unknown[] = [];
    const roots = page.roots !== undefined && this.coversEveryRoot(page.roots) ? undefined : page.roots;
    const scopeSql = filterSql(q, scope) + rootScopeSql(roots, scope);
    let total: number;
    let rows: Row[];
    if (q.match === null) {
      let from = `documents d WHERE d.status = 'indexed'`;
      const params: unknown[] = [];
      if (q.exclude !== null) {
        from += ' AND d.id NOT IN (SELECT rowid FROM docs_fts WHERE docs_fts MATCH ?)';
        params.push(q.exclude);
      }
      from += scopeSql;
      params.push(...scope);
      total = (this.statement(`SELECT count(*) AS n FROM ${from}`).get(...params) as { n: number }).n;
      rows = page.limit === 0 ? [] : (this.statement(`SELECT d.id, d.path, d.title, d.mtime_ms AS mtimeMs, d.size, 0 AS score FROM ${from} ORDER BY d.mtime_ms DESC, d.id LIMIT ? OFFSET ?`).all(...params, page.limit, page.offset) as Row[]);
    } else if (q.exact === null) {
      total = this.count(q.match, scopeSql, scope);
      rows = this.ranked(q, q.match, scopeSql, scope, page.limit, page.offset, total);
    } else {
      // Two tiers: the documents holding the forms as typed (q.exact), then those holding other
      // forms only. Each tier is ranked on its own, and only a tier the page reaches is ranked at
      // all: for a common word the page comes from the first tier, whose BM25 has fewer phrases to
      // weigh than the expanded query's (it ranks by the typed forms, which every document of the
      // tier holds), and no per-row "is it exact" test over every hit is needed.
      total = this.count(q.match, scopeSql, scope);
      // A page the named documents of the first tier fill needs neither that tier's size nor the
      // second tier (the named query holds only first-tier documents).
      const named = this.namedPage(q, q.exact, scopeSql, scope, page.limit, page.offset, total);
      if (named !== null) rows = named;
      else {
        const exactTotal = total === 0 ? 0 : this.count(q.exact, scopeSql, scope);
        rows = page.offset < exactTotal ? this.rankAll(q, q.exact, scopeSql, scope, Math.min(page.limit, exactTotal - page.offset), page.offset) : [];
        const rest = page.limit - rows.length;
        if (rest > 0 && total > exactTotal) {
          // FTS5 leaves the NOT operand's phrases out of every matching row, so BM25 here weighs the
          // expanded query's phrases only, as ranking the whole match would.
          rows.push(...this.ranked(q, `(${q.match}) NOT (${q.exact})`, scopeSql, scope, rest, Math.max(0, page.offset - exactTotal), total - exactTotal));
        }
      }
    }
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

  /**
   * How many documents in scope match an FTS5 expression. With no scope to check (`scopeSql`
   * empty: no filter, and the roots asked for are every root of the index) the FTS5 rows are
   * counted without looking each document up: every FTS5 row is an indexed document (the store
   * writes both in one transaction; the doctor reports otherwise), and a cold `owlet search` read
   * and decrypted the whole documents table for that join (~25 ms of CPU for a common word).
   */
  private count(match: string, scopeSql: string, scope: readonly unknown[]): number {
    const sql = scopeSql === '' ? 'SELECT count(*) AS n FROM docs_fts WHERE docs_fts MATCH ?' : `SELECT count(*) AS n ${FROM}${scopeSql}`;
    return (this.statement(sql).get(match, ...scope) as { n: number }).n;
  }

  /** True when `roots` names every root of the index (a document always belongs to one): scoping to them selects everything. */
  private coversEveryRoot(roots: readonly string[]): boolean {
    const wanted = new Set(roots);
    return (this.statement('SELECT path FROM roots').all() as { path: string }[]).every((r) => wanted.has(r.path));
  }

  /**
   * One page of the documents in scope matching `match` (`tierRows` of them), best first: BM25
   * plus the name signal. A big tier is first ranked among its documents whose name can match
   * (the name prefilter): when the last of the page's documents there scores more than any
   * document's BM25 can reach (rank-bound.ts), no other document can be on the page and the
   * thousands of other hits are never scored. That is the common-word case: BM25 gives a word in
   * half the documents almost no weight, and the name signal decides. Otherwise every hit is
   * ranked, as for small tiers. Either way the page is the same.
   */
  private ranked(q: ParsedQuery, match: string, scopeSql: string, scope: readonly unknown[], limit: number, offset: number, tierRows: number): Row[] {
    return this.namedPage(q, match, scopeSql, scope, limit, offset, tierRows) ?? this.rankAll(q, match, scopeSql, scope, limit, offset);
  }

  /** The page ranked among the named documents only, or null when that cannot be proven to be the page. */
  private namedPage(q: ParsedQuery, match: string, scopeSql: string, scope: readonly unknown[], limit: number, offset: number, tierRows: number): Row[] | null {
    const w = this.weights;
    const k = offset + limit;
    if (!this.boundedRanking || limit <= 0 || w.name <= 0 || tierRows < BOUNDED_TIER_ROWS || k > tierRows / 4) return null;
    const prefilter = labelPrefilter(q.highlight);
    if (prefilter === null) return null;
    const bound = (this.bound ??= new RankBound(this.db)).of(match);
    // The name signal alone must be able to beat the bound, or no named document can.
    if (bound === null || bound >= w.name) return null;
    const key = JSON.stringify({ terms: q.highlight, languages: this.languages } satisfies LabelQuery);
    // `+docs_fts.rowid`: each row FTS5 produces is checked before its document is looked up (on
    // d.id, after the join); the unary plus keeps SQLite from handing the list to FTS5 as rowid
    // lookups, which would restart the MATCH (and bm25's statistics) per row.
    const named = this.statement(
      `${SELECT}, (${this.bm25()} + ${w.name} * ${NAME_MATCH_FN}(d.path, d.title, ?)) AS score ${FROM}${scopeSql} AND +docs_fts.rowid IN (SELECT rowid FROM docs_fts WHERE docs_fts MATCH ?) ${ORDER}`,
    ).all(key, match, ...scope, prefilter, k, 0) as Row[];
    // Strictly above: a document outside scores strictly below the bound.
    return named.length === k && named[k - 1]!.score > bound ? named.slice(offset) : null;
  }

  /** The page ranked among every document matching `match`. */
  private rankAll(q: ParsedQuery, match: string, scopeSql: string, scope: readonly unknown[], limit: number, offset: number): Row[] {
    if (limit <= 0) return [];
    const w = this.weights;
    const prefilter = w.name > 0 ? labelPrefilter(q.highlight) : null;
    if (prefilter === null) return this.statement(`${SELECT}, ${this.bm25()} AS score ${FROM}${scopeSql} ${ORDER}`).all(match, ...scope, limit, offset) as Row[];
    // The name match is worked out only for documents whose title column can match a term.
    const key = JSON.stringify({ terms: q.highlight, languages: this.languages } satisfies LabelQuery);
    const score = `(${this.bm25()} + ${w.name} * CASE WHEN d.id IN (SELECT rowid FROM docs_fts WHERE docs_fts MATCH ?) THEN ${NAME_MATCH_FN}(d.path, d.title, ?) ELSE 0 END)`;
    return this.statement(`${SELECT}, ${score} AS score ${FROM}${scopeSql} ${ORDER}`).all(prefilter, key, match, ...scope, limit, offset) as Row[];
  }

  private bm25(): string {
    const w = this.weights;
    return `-bm25(docs_fts, ${w.title}, ${w.body}, ${w.stems})`;
  }

  /**
   * Prepared statements by SQL text. The text depends only on the weights and on how many
   * filters and roots a query has, so a few shapes cover every search; preparing one (parsing
   * and planning a join with FTS5) costs more than running it on a rare word.
   */
  private statement(sql: string): Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare<unknown[]>(sql);
      if (this.statements.size >= STATEMENT_CACHE_LIMIT) this.statements.clear();
      this.statements.set(sql, st);
    }
    return st;
  }
}
