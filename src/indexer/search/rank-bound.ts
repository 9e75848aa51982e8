/**
 * An upper bound on FTS5's bm25() for any row of a query, so that search.ts can rank a common
 * word's few hundred documents whose name matches instead of its thousands of hits: when the k-th
 * best of those scores more than any other hit's BM25 could, the other hits cannot reach the page.
 *
 * FTS5's bm25() sums, over the phrases of the MATCH expression, idf × f(k1+1) / (f + k1·(1-b+b·dl/avgdl)),
 * where f ≥ 0 is the row's column-weighted count of the phrase, k1 = 1.2, and
 * idf = ln((N - n + 0.5) / (n + 0.5)) (1e-6 when that is ≤ 0), N the rows of the index and n the
 * rows holding the phrase (in its column filter). Each term is below idf·(k1+1) whatever the
 * weights, so the sum is below (k1+1)·Σ idf. It is loose for rare words (large idf): then the
 * bound is simply not used.
 */
import type Database from 'better-sqlite3-multiple-ciphers';
import type { Db } from '../store/db.js';

const K1 = 1.2;

/** A phrase string as query-compile.ts writes them: `"..."` with `"` doubled, maybe a prefix star. */
const STRING = String.raw`"(?:[^"]|"")*"\*?`;
/** A column filter over one string or a parenthesised OR of strings: every phrase the compiler writes. */
const FILTERED = new RegExp(String.raw`(\{title body\}|\{title\}|stems) : (${STRING}|\(${STRING}(?: OR ${STRING})*\))`, 'g');
const ANY_STRING = new RegExp(STRING, 'g');

/**
 * The phrases of a compiled FTS5 expression, each as a MATCH expression of its own with its column
 * filter (`stems : "run"`), or null when a phrase is not in a shape this reads (then no bound).
 */
export function phrasesOf(expr: string): string[] | null {
  const out: string[] = [];
  for (const m of expr.matchAll(FILTERED)) {
    for (const s of m[2]!.replace(/^\(|\)$/g, '').match(ANY_STRING) ?? []) out.push(`${m[1]} : ${s}`);
  }
  // Every string of the expression must have been seen under a column filter.
  return out.length > 0 && out.length === (expr.match(ANY_STRING) ?? []).length ? out : null;
}

/** (k1+1)·Σ idf over phrases held by `counts[i]` of `rows` rows. */
export function bm25Bound(rows: number, counts: readonly number[]): number {
  let sum = 0;
  for (const n of counts) sum += Math.max(Math.log((rows - n + 0.5) / (n + 0.5)), 1e-6);
  return (K1 + 1) * sum;
}

/** SQLite's varint (big-endian groups of 7 bits, the 9th byte whole), as FTS5 writes its records. */
function varint(buf: Buffer, at: number): number | null {
  let v = 0;
  for (let i = 0; i < 9; i++) {
    if (at + i >= buf.length) return null;
    const b = buf[at + i]!;
    if (i === 8) return v * 256 + b;
    v = v * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) return v;
  }
  return null;
}

/**
 * Measures what the bound needs on one connection: the FTS5 row count N (the first varint of the
 * index's averages record, id 1 of `docs_fts_data`, which FTS5 keeps up to date on every write:
 * the same N bm25() uses) and each phrase's row count.
 */
export class RankBound {
  private readonly averages: Database.Statement<[], { block: Buffer }>;
  private readonly countOf: Database.Statement<[string], { n: number }>;

  constructor(db: Db) {
    this.averages = db.prepare<[], { block: Buffer }>('SELECT block FROM docs_fts_data WHERE id = 1');
    this.countOf = db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM docs_fts WHERE docs_fts MATCH ?');
  }

  /** An upper bound on bm25() (before its sign is flipped) for any row matching `expr`, or null. */
  of(expr: string): number | null {
    const phrases = phrasesOf(expr);
    if (phrases === null) return null;
    const block = this.averages.get()?.block;
    const rows = block ? varint(block, 0) : null;
    if (rows === null || rows <= 0) return null;
    return bm25Bound(rows, phrases.map((p) => this.countOf.get(p)!.n));
  }
}
