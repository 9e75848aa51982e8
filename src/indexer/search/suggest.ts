/**
 * "Did you mean": for a query with few or no hits, each plain word the index barely knows is
 * replaced by the closest word of the index's own vocabulary (FTS5's fts5vocab over the title and
 * body columns), by edit distance (Damerau, optimal string alignment) weighted by document
 * frequency. A suggestion is offered only when it finds more documents than the query as typed.
 */
import type { Db } from '../store/db.js';
import { fold } from '../text/tokens.js';
import type { QueryWord } from './query.js';

export interface Suggestion {
  /** The whole query with the corrected words in place (filters and operators kept). */
  query: string;
  /** The words replaced, as typed → as suggested. */
  words: { from: string; to: string }[];
}

/** Words shorter than this are not corrected (too many neighbours, too little signal). */
const MIN_LENGTH = 4;
/** A word found in at least this many documents is taken as meant. */
const KNOWN_DF = 3;
/** Candidates scanned per vocabulary range at most (bounds the work on a huge vocabulary). */
const RANGE_LIMIT = 20_000;

/** Optimal-string-alignment distance, or max+1 as soon as it must exceed `max`. */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const n = b.length;
  let prev2 = new Array<number>(n + 1).fill(0);
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  let cur = new Array<number>(n + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    let rowMin = i;
    for (let j = 1; j <= n; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2]! + 1);
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[n]!;
}

/** Higher is better: frequent words win, each edit costs as much as a 12× frequency difference. */
function candidateScore(distance: number, df: number): number {
  return Math.log(1 + df) - 2.5 * distance;
}

export class Suggester {
  private readonly range;
  private readonly one;

  constructor(db: Db) {
    // A temp table: the vocabulary view exists only on this connection, never in the file.
    db.exec("CREATE VIRTUAL TABLE IF NOT EXISTS temp.docs_vocab USING fts5vocab(main, docs_fts, 'col')");
    this.range = db.prepare<[string, string, number], { term: string; df: number }>(
      `SELECT term, max(doc) AS df FROM temp.docs_vocab
        WHERE term >= ? AND term < ? AND col IN ('title', 'body') GROUP BY term LIMIT ?`,
    );
    this.one = db.prepare<[string], { df: number }>(
      "SELECT max(doc) AS df FROM temp.docs_vocab WHERE term = ? AND col IN ('title', 'body')",
    );
  }

  /** Documents whose title or body holds `word` as written (folded). */
  documentFrequency(word: string): number {
    return this.one.get(fold(word))?.df ?? 0;
  }

  /** The best replacement for one word, or null. */
  closest(word: string): string | null {
    const w = fold(word);
    if (w.length < MIN_LENGTH || !/^\p{L}+$/u.test(w)) return null;
    const own = this.documentFrequency(w);
    if (own >= KNOWN_DF) return null;
    const max = w.length <= 5 ? 1 : 2;
    // Typos rarely touch the first letter; the second one is covered by three ranges: as typed,
    // first two swapped, and second letter extra (w0 w2).
    const prefixes = new Set([w.slice(0, 2), w[1]! + w[0]!, w[0]! + w[2]!]);
    let best: { term: string; score: number } | null = null;
    for (const p of prefixes) {
      for (const r of this.range.iterate(p, p + '\uffff', RANGE_LIMIT)) {
        if (r.term === w || r.df <= own || Math.abs(r.term.length - w.length) > max) continue;
        const d = editDistance(w, r.term, max);
        if (d > max) continue;
        const score = candidateScore(d, r.df);
        if (!best || score > best.score) best = { term: r.term, score };
      }
    }
    return best?.term ?? null;
  }

  /** A corrected query, or null when no word needs (or has) a correction. */
  suggest(input: string, words: readonly QueryWord[]): Suggestion | null {
    const changes: { word: QueryWord; to: string }[] = [];
    for (const word of words) {
      const to = this.closest(word.text.replace(/^=/, ''));
      if (to) changes.push({ word, to });
    }
    if (changes.length === 0) return null;
    let query = input;
    // Right to left, so earlier offsets stay valid.
    for (const { word, to } of [...changes].sort((a, b) => b.word.start - a.word.start)) {
      const typed = input.slice(word.start, word.end);
      const lead = typed.startsWith('=') ? '=' : '';
      const star = typed.endsWith('*') ? '*' : '';
      query = query.slice(0, word.start) + lead + to + star + query.slice(word.end);
    }
    return { query, words: changes.map((c) => ({ from: c.word.text, to: c.to })) };
  }
}
