/**
 * Builds a snippet for one hit from its stored passages. Work is bounded: at most `maxPassages`
 * passages are inflated and tokenised, and scanning stops at the first window that holds every
 * term. The snippet is about `maxChars` characters of text: runs of whitespace and of leader
 * characters (a table of contents' dot leaders, ruled lines) are collapsed so they never fill it.
 */
import { stemWord } from '../text/stem.js';
import { WORD, fold } from '../text/tokens.js';

export { fold };

export interface SnippetTerm {
  /** Folded word (or a phrase's folded words joined by one space). */
  text: string;
  prefix: boolean;
  /** A phrase: marked only where its words follow one another. */
  phrase?: readonly string[];
  /** Stems whose words also count as this term (its other forms). */
  stems?: readonly string[];
}

export interface SnippetOptions {
  maxPassages?: number;
  /** Longest window considered, in words. */
  windowTokens?: number;
  /** About this many characters of text at most (ellipses and markup not counted). */
  maxChars?: number;
  /** Characters shown when no term is found in the passages scanned. */
  fallbackChars?: number;
  /** Languages the stems were made in (to recognise a word's other forms). */
  languages?: readonly string[];
}

export const SNIPPET_CHARS = 240;

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;'));
}

/** Whitespace runs become one space; runs of 3+ leader characters (with spaces between) become " … ". */
const LEADERS = /(?:[.·•…_=~*\-–—][\s\u00a0]*){3,}/g;
export function collapseGap(gap: string): string {
  return gap.replace(LEADERS, ' … ').replace(/[\s\u00a0]+/g, ' ');
}

interface Tok {
  start: number;
  end: number;
  term: number; // index into terms, -1 when not a match
}

class Matcher {
  private readonly single: { t: SnippetTerm; i: number }[] = [];
  private readonly phrases: { words: readonly string[]; i: number }[] = [];
  constructor(terms: readonly SnippetTerm[], private readonly languages: readonly string[]) {
    terms.forEach((t, i) => {
      if (t.phrase && t.phrase.length > 1) this.phrases.push({ words: t.phrase, i });
      else this.single.push({ t, i });
    });
  }

  private wordTerm(folded: string, raw: string): number {
    for (const { t, i } of this.single) {
      if (t.prefix ? folded.startsWith(t.text) : folded === t.text) return i;
      if (t.stems?.length) {
        for (const s of t.stems) {
          // Cheap guard before stemming: forms of a stem share its first two letters (folded).
          if (folded.charCodeAt(0) !== s.charCodeAt(0) || folded.charCodeAt(1) !== s.charCodeAt(1)) continue;
          for (const l of this.languages) if (stemWord(raw, l) === s) return i;
        }
      }
    }
    return -1;
  }

  tokenize(text: string): Tok[] {
    const toks: Tok[] = [];
    const folded: string[] = [];
    for (const m of text.matchAll(WORD)) {
      const f = fold(m[0]);
      folded.push(f);
      toks.push({ start: m.index, end: m.index + m[0].length, term: this.single.length ? this.wordTerm(f, m[0]) : -1 });
    }
    for (const { words, i } of this.phrases) {
      for (let k = 0; k + words.length <= toks.length; k++) {
        let ok = true;
        for (let w = 0; w < words.length && ok; w++) ok = folded[k + w] === words[w];
        if (!ok) continue;
        for (let w = 0; w < words.length; w++) toks[k + w]!.term = i;
        k += words.length - 1;
      }
    }
    return toks;
  }
}

interface Window {
  passage: string;
  toks: Tok[];
  from: number;
  to: number;
  score: number;
  distinct: number;
}

function bestWindow(passage: string, toks: Tok[], width: number, nTerms: number): Window | null {
  let best: Window | null = null;
  for (let i = 0; i < toks.length; i++) {
    if (toks[i]!.term < 0) continue;
    const seen = new Set<number>();
    let hits = 0;
    const end = Math.min(toks.length, i + width);
    for (let j = i; j < end; j++) {
      const t = toks[j]!.term;
      if (t >= 0) {
        seen.add(t);
        hits++;
      }
    }
    const score = seen.size * 100 + hits;
    if (!best || score > best.score) {
      // Start a few words before the first match so the reader sees some context.
      const from = Math.max(0, i - 4);
      best = { passage, toks, from, to: Math.min(toks.length, from + width), score, distinct: seen.size };
      if (seen.size === nTerms && hits >= nTerms) break;
    }
  }
  return best;
}

function render(w: Window, maxChars: number): string {
  const { passage, toks, from } = w;
  if (toks.length === 0) return '';
  let out = from > 0 ? '…' : '';
  let chars = 0;
  let k = from;
  for (; k < w.to && k < toks.length; k++) {
    const t = toks[k]!;
    const gap = k === from ? '' : collapseGap(passage.slice(toks[k - 1]!.end, t.start));
    const word = passage.slice(t.start, t.end);
    // Never cut inside the window's matches; otherwise stop near the character budget.
    if (chars + gap.length + word.length > maxChars && k > from && t.term < 0) break;
    chars += gap.length + word.length;
    out += escapeHtml(gap) + (t.term >= 0 ? `<mark>${escapeHtml(word)}</mark>` : escapeHtml(word));
  }
  // Marks next to each other (a phrase) read as one: "<mark>a</mark> <mark>b</mark>" stays, which
  // shows the words matched; a trailing piece of text after the last word is dropped.
  if (k < toks.length) out += '…';
  return out.trim();
}

/**
 * Returns HTML-safe text: document text is escaped, matched words are wrapped in <mark></mark>.
 */
export function makeSnippet(passages: Iterable<string>, terms: readonly SnippetTerm[], opts: SnippetOptions = {}): string {
  const maxPassages = opts.maxPassages ?? 16;
  const width = opts.windowTokens ?? 40;
  const maxChars = opts.maxChars ?? SNIPPET_CHARS;
  const matcher = new Matcher(terms, opts.languages ?? ['en']);
  let first: string | null = null;
  let best: Window | null = null;
  let n = 0;
  for (const passage of passages) {
    if (first === null) first = passage;
    if (terms.length > 0) {
      const w = bestWindow(passage, matcher.tokenize(passage), width, terms.length);
      if (w && (!best || w.score > best.score)) best = w;
      if (best && best.distinct === terms.length) break;
    }
    if (++n >= maxPassages) break;
  }
  if (best) return render(best, maxChars);
  if (first === null) return '';
  const chars = opts.fallbackChars ?? 160;
  const head = collapseGap(first.slice(0, chars * 2)).trim().slice(0, chars);
  return escapeHtml(head) + (first.length > chars ? '…' : '');
}
