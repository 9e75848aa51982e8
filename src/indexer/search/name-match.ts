/**
 * How well a document's file name or title names what the query asks for: the signal that ranks
 * `pickle.html` ("pickle — Python object serialization") above a page that merely mentions pickle
 * often, and the page titled "CREATE TABLE" above one that uses both words a hundred times.
 *
 * A document has labels: its file name without the extension, its title, and each part of a title
 * made of parts ("pickle — Python object serialization — Python 3.11 documentation",
 * "Install | Acme docs"). For one label, coverage is the share of the query's terms found among
 * its words and precision the share of its words some term matches; the label scores
 * coverage × precision, so 1 means the label is exactly what was typed. A match through another
 * form of a word (its stem) counts STEM_MATCH of a match as written: exact forms first, here too.
 * A document scores its best label.
 *
 * search.ts calls this from SQL (a registered function) only for documents whose title column
 * (title and file name, see store/documents.ts ftsTitle) can match a term: `labelPrefilter` is that
 * FTS5 expression.
 */
import path from 'node:path';
import { stemWord } from '../text/stem.js';
import { fold, words } from '../text/tokens.js';
import { ftsString, type HighlightTerm } from './query-compile.js';

/** What a match through another form of the word is worth against the form as written. */
export const STEM_MATCH = 0.8;

/** Separators that split a title into parts: dashes and bars with spaces around, or a colon. */
const TITLE_PARTS = /\s+[—–|-]\s+|:\s+|\s+·\s+/u;

/** The query side, prepared once per query: its terms and the languages to stem label words in. */
export interface LabelQuery {
  terms: readonly HighlightTerm[];
  languages: readonly string[];
}

function labelWords(label: string): string[] {
  return Array.from(words(label), fold);
}

/** The labels of a document: its file name without the extension, its title and the title's parts. */
export function documentLabels(filePath: string, title: string | null): string[][] {
  const base = path.basename(filePath.split('\\').join('/'));
  const ext = path.extname(base);
  const out = [labelWords(ext && ext !== base ? base.slice(0, -ext.length) : base)];
  if (title && title.trim()) {
    out.push(labelWords(title));
    const parts = title.split(TITLE_PARTS);
    if (parts.length > 1) for (const p of parts) out.push(labelWords(p));
  }
  return out.filter((l) => l.length > 0);
}

/** How one term matches word `i` of `label` (1 as written, STEM_MATCH another form, 0 not), and which words it covers. */
function termMatch(term: HighlightTerm, label: readonly string[], stems: readonly (readonly string[])[], i: number): number {
  if (term.phrase) {
    const ws = term.phrase;
    if (i + ws.length > label.length) return 0;
    for (let k = 0; k < ws.length; k++) {
      const last = k === ws.length - 1;
      const w = label[i + k]!;
      if (!(w === ws[k] || (last && term.prefix && w.startsWith(ws[k]!)))) return 0;
    }
    return 1;
  }
  const w = label[i]!;
  if (w === term.text || (term.prefix && w.startsWith(term.text))) return 1;
  if (term.stems && term.stems.length > 0 && stems[i]!.some((s) => term.stems!.includes(s))) return STEM_MATCH;
  return 0;
}

/**
 * A label's words, folded, and their stems in each language the label was asked in (worked out on
 * first use: a query without stemmed terms never stems a label).
 */
interface Label {
  words: readonly string[];
  stems: Map<string, readonly (readonly string[])[]>;
}

function stemsOf(label: Label, languages: readonly string[]): readonly (readonly string[])[] {
  const key = languages.join(',');
  let s = label.stems.get(key);
  if (!s) label.stems.set(key, (s = label.words.map((w) => languages.map((l) => stemWord(w, l)))));
  return s;
}

function labelScore(q: LabelQuery, label: Label, needStems: boolean): number {
  const words = label.words;
  const stems = needStems ? stemsOf(label, q.languages) : NO_STEMS;
  const wordBest = new Array<number>(words.length).fill(0);
  let covered = 0;
  for (const term of q.terms) {
    let best = 0;
    for (let i = 0; i < words.length; i++) {
      const m = termMatch(term, words, stems, i);
      if (m === 0) continue;
      best = Math.max(best, m);
      const span = term.phrase ? term.phrase.length : 1;
      for (let k = i; k < i + span; k++) wordBest[k] = Math.max(wordBest[k]!, m);
    }
    covered += best;
  }
  if (covered === 0) return 0;
  const coverage = covered / q.terms.length;
  const precision = wordBest.reduce((a, b) => a + b, 0) / words.length;
  return coverage * precision;
}

const NO_STEMS: readonly (readonly string[])[] = [];

/**
 * Labels by document (path and title): a common word's query asks for the names of the same few
 * hundred documents on every search, and splitting, folding and stemming them cost more than the
 * score itself. Bounded; cleared whole when full (names are small: ~1 MB at the bound).
 */
const LABEL_CACHE_LIMIT = 4096;
const labelCache = new Map<string, Label[]>();

function labelsOf(filePath: string, title: string | null): Label[] {
  const key = title === null ? filePath : `${filePath}\u0000${title}`;
  let labels = labelCache.get(key);
  if (!labels) {
    labels = documentLabels(filePath, title).map((words) => ({ words, stems: new Map() }));
    if (labelCache.size >= LABEL_CACHE_LIMIT) labelCache.clear();
    labelCache.set(key, labels);
  }
  return labels;
}

/** The document's best label score in [0, 1]; 0 when the query has no terms to look for. */
export function nameMatch(q: LabelQuery, filePath: string, title: string | null): number {
  if (q.terms.length === 0) return 0;
  const needStems = q.terms.some((t) => t.stems && t.stems.length > 0);
  let best = 0;
  for (const label of labelsOf(filePath, title)) best = Math.max(best, labelScore(q, label, needStems));
  return best;
}

/** Stems shorter than this are looked up as whole words in the prefilter (a short prefix matches too much). */
const MIN_STEM_PREFIX = 4;

/**
 * An FTS5 expression over the title column (title and file name) that every document with a
 * nonzero nameMatch satisfies, or null when there is nothing to look for. Other forms of a word
 * are found by the stem without its last letter as a prefix (`librari` → `librar*` also finds
 * `library`); a form that does not start so (rare) only misses the boost, never a result.
 */
export function labelPrefilter(terms: readonly HighlightTerm[]): string | null {
  const alts: string[] = [];
  for (const t of terms) {
    if (t.phrase) {
      alts.push(ftsString(t.phrase.join(' ')) + (t.prefix ? '*' : ''));
      continue;
    }
    alts.push(ftsString(t.text) + (t.prefix ? '*' : ''));
    for (const s of t.stems ?? []) {
      alts.push(s.length >= MIN_STEM_PREFIX ? `${ftsString(s.slice(0, -1))}*` : ftsString(s));
    }
  }
  return alts.length ? `{title} : (${alts.join(' OR ')})` : null;
}
