/**
 * Builds a snippet for one hit from its stored passages. Work is bounded and proportional to the
 * matches, not to the words: each passage is scanned once by one regular expression for the
 * terms' anchors (a term's folded text, or the first letters of its stems), in any case and with
 * or without diacritics; only the words around those places are folded and compared, and at most
 * MAX_MATCHES of them per passage. At most `maxPassages` passages (4 × 32 K characters) are
 * decompressed; scanning stops at the first window that holds every term, and `afterFound`
 * passages after the first passage with a match. The snippet is about `maxChars`
 * characters of text: runs of whitespace and of leader characters (a table of contents' dot
 * leaders, ruled lines) are collapsed so they never fill it.
 */
import { stemWord } from '../text/stem.js';
import { WORD, fold } from '../text/tokens.js';
import { variantsOf } from './fold-variants.js';

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
  /** Passages read after the first one with a match when no window holds every term yet. */
  afterFound?: number;
  /** About this many characters of text at most (ellipses and markup not counted). */
  maxChars?: number;
  /** Characters shown when no term is found in the passages scanned. */
  fallbackChars?: number;
  /** Languages the stems were made in (to recognise a word's other forms). */
  languages?: readonly string[];
}

export const SNIPPET_CHARS = 240;
/** Words of context shown before the first match of a window. */
const CONTEXT_WORDS = 4;
/** Matches looked at per passage: a common word in a long passage does not cost more than this. */
const MAX_MATCHES = 200;

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

function escapeClassChar(c: string): string {
  return /[\\\]\[^-]/.test(c) ? `\\${c}` : c;
}

/** A pattern matching `anchor` (folded) as the tokenizer would fold the text: any case, any diacritics. */
function anchorPattern(anchor: string): string {
  return [...anchor].map((c) => `[${[c, ...variantsOf(c)].map(escapeClassChar).join('')}]\\p{M}*`).join('');
}

const WORD_CHAR = /[\p{L}\p{N}\p{Co}\p{M}]/u;
const WORD_START = /[\p{L}\p{N}\p{Co}]/u;
const ANY_WORD = /[\p{L}\p{N}\p{Co}]/u;
const WORD_TAIL = /[\p{L}\p{N}\p{Co}\p{M}]*/uy;

/** The code point that ends at `s` (a surrogate pair whole). */
function before(text: string, s: number): string {
  const lo = text.charCodeAt(s - 1);
  if (lo >= 0xdc00 && lo <= 0xdfff && s >= 2) {
    const hi = text.charCodeAt(s - 2);
    if (hi >= 0xd800 && hi <= 0xdbff) return text.slice(s - 2, s);
  }
  return text[s - 1]!;
}

/** Where the word holding position `at` starts, as the WORD regex would start it. */
function wordStart(text: string, at: number): number {
  let s = at;
  for (let c: string; s > 0 && WORD_CHAR.test((c = before(text, s))); ) s -= c.length;
  // Marks before the first letter belong to no word.
  while (s < at && !WORD_START.test(String.fromCodePoint(text.codePointAt(s)!))) s += text.codePointAt(s)! > 0xffff ? 2 : 1;
  return s;
}

function wordEnd(text: string, from: number): number {
  WORD_TAIL.lastIndex = from;
  WORD_TAIL.exec(text);
  return WORD_TAIL.lastIndex;
}

class Matcher {
  private readonly single: { t: SnippetTerm; i: number }[] = [];
  private readonly phrases: { words: readonly string[]; i: number }[] = [];
  private readonly anchors: RegExp | null;
  private readonly word = new RegExp(WORD.source, 'gu');
  constructor(terms: readonly SnippetTerm[], private readonly languages: readonly string[]) {
    const anchors = new Set<string>();
    terms.forEach((t, i) => {
      if (t.phrase && t.phrase.length > 1) {
        this.phrases.push({ words: t.phrase, i });
        anchors.add(t.phrase[0]!);
      } else {
        this.single.push({ t, i });
        anchors.add(t.text);
        // Forms of a stem share its first letters (three of a longer stem, two of a short one).
        for (const s of t.stems ?? []) anchors.add(s.slice(0, s.length >= 4 ? 3 : 2));
      }
    });
    const list = [...anchors].filter((a) => a !== '');
    this.anchors = list.length ? new RegExp(list.map(anchorPattern).join('|'), 'giu') : null;
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

  /** The phrase starting with the word that ends at `end`: the end of its last word, or -1. */
  private phraseEnd(text: string, words: readonly string[], end: number, into: Tok[], term: number): number {
    const found: Tok[] = [];
    this.word.lastIndex = end;
    for (let w = 1; w < words.length; w++) {
      const m = this.word.exec(text);
      if (!m || fold(m[0]) !== words[w]) return -1;
      found.push({ start: m.index, end: m.index + m[0].length, term });
    }
    into.push(...found);
    return found[found.length - 1]!.end;
  }

  /**
   * The matched words of `text`, in order (a phrase's words each, only where they follow one
   * another). Stops once a span of `span` characters holding all `nTerms` terms is complete: the
   * snippet shows that window, so the rest of a passage full of a common word is never looked at.
   */
  matches(text: string, nTerms: number, span: number): Tok[] {
    const out: Tok[] = [];
    const re = this.anchors;
    if (re === null) return out;
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    let completeFrom = -1;
    const seen = new Set<number>();
    while (out.length < MAX_MATCHES && (m = re.exec(text)) !== null) {
      if (completeFrom >= 0 && m.index > completeFrom + span) break;
      if (completeFrom < 0 && out.length > 0) {
        // Is there a complete window ending at the last match?
        const last = out[out.length - 1]!;
        seen.clear();
        let k = out.length - 1;
        for (; k >= 0 && out[k]!.start >= last.end - span; k--) seen.add(out[k]!.term);
        if (seen.size >= nTerms) {
          completeFrom = out[k + 1]!.start;
          if (m.index > completeFrom + span) break;
        }
      }
      const start = wordStart(text, m.index);
      const end = wordEnd(text, start);
      if (end <= start) {
        re.lastIndex = m.index + 1;
        continue;
      }
      const raw = text.slice(start, end);
      const folded = fold(raw);
      let next = end;
      let matched = false;
      for (const { words, i } of this.phrases) {
        if (folded !== words[0]) continue;
        const before = out.length;
        out.push({ start, end, term: i });
        const last = this.phraseEnd(text, words, end, out, i);
        if (last < 0) {
          out.length = before;
          continue;
        }
        next = last;
        matched = true;
        break;
      }
      if (!matched && this.single.length) {
        const term = this.wordTerm(folded, raw);
        if (term >= 0) out.push({ start, end, term });
      }
      // Never look inside the same word twice.
      re.lastIndex = Math.max(next, m.index + 1);
    }
    return out;
  }

  /** All words of `text` from `from` to `to`, with the matches of `marks` (by start) marked. */
  tokens(text: string, from: number, to: number, marks: Map<number, number>): Tok[] {
    const toks: Tok[] = [];
    this.word.lastIndex = from;
    let m: RegExpExecArray | null;
    while ((m = this.word.exec(text)) !== null && m.index < to) {
      toks.push({ start: m.index, end: m.index + m[0].length, term: marks.get(m.index) ?? -1 });
    }
    return toks;
  }
}

interface Window {
  passage: string;
  matches: Tok[];
  /** Index of the window's first match. */
  first: number;
  score: number;
  distinct: number;
}

/** The span of about `span` characters, starting at a match, that holds the most distinct terms, then the most matches. */
function bestWindow(passage: string, matches: Tok[], span: number, nTerms: number): Window | null {
  let best: Window | null = null;
  for (let i = 0; i < matches.length; i++) {
    const seen = new Set<number>();
    let hits = 0;
    const limit = matches[i]!.start + span;
    for (let j = i; j < matches.length && matches[j]!.end <= limit; j++) {
      seen.add(matches[j]!.term);
      hits++;
    }
    if (hits === 0) {
      // A single match longer than the span still makes a window.
      seen.add(matches[i]!.term);
      hits = 1;
    }
    const score = seen.size * 100 + hits;
    if (!best || score > best.score) {
      best = { passage, matches, first: i, score, distinct: seen.size };
      if (seen.size === nTerms && hits >= nTerms) break;
    }
  }
  return best;
}

function render(w: Window, matcher: Matcher, maxChars: number): string {
  const { passage, matches } = w;
  const at = matches[w.first]!.start;
  // A few words of context before the first match.
  const lookBack = Math.max(0, at - 120);
  const ahead = matcher.tokens(passage, lookBack, at, new Map());
  // The first word of a look-back that starts mid-passage may be cut: never show it.
  if (lookBack > 0) ahead.shift();
  const from = ahead.length ? ahead[Math.max(0, ahead.length - CONTEXT_WORDS)]!.start : at;
  const marks = new Map<number, number>();
  for (let j = w.first; j < matches.length && matches[j]!.start < at + maxChars * 2; j++) marks.set(matches[j]!.start, matches[j]!.term);
  const until = Math.min(passage.length, at + maxChars * 3);
  const toks = matcher.tokens(passage, from, until, marks);
  let out = ANY_WORD.test(passage.slice(0, from)) ? '…' : '';
  let chars = 0;
  let k = 0;
  for (; k < toks.length; k++) {
    const t = toks[k]!;
    const gap = k === 0 ? '' : collapseGap(passage.slice(toks[k - 1]!.end, t.start));
    const word = passage.slice(t.start, t.end);
    // Never cut inside the window's matches; otherwise stop near the character budget.
    if (chars + gap.length + word.length > maxChars && k > 0 && (t.term < 0 || t.start > at + maxChars)) break;
    chars += gap.length + word.length;
    out += escapeHtml(gap) + (t.term >= 0 ? `<mark>${escapeHtml(word)}</mark>` : escapeHtml(word));
  }
  const lastEnd = k > 0 ? toks[k - 1]!.end : from;
  if (k < toks.length || ANY_WORD.test(passage.slice(lastEnd))) out += '…';
  return out.trim();
}

/**
 * One search builds the snippets of its page with the same terms (one array): their matcher (and
 * its regular expression) is built once, not once per hit.
 */
const matchers = new WeakMap<readonly SnippetTerm[], { languages: readonly string[]; matcher: Matcher }>();
function matcherFor(terms: readonly SnippetTerm[], languages: readonly string[]): Matcher {
  const known = matchers.get(terms);
  if (known && known.languages.length === languages.length && known.languages.every((l, i) => l === languages[i])) return known.matcher;
  const matcher = new Matcher(terms, languages);
  matchers.set(terms, { languages, matcher });
  return matcher;
}

/**
 * Returns HTML-safe text: document text is escaped, matched words are wrapped in <mark></mark>.
 */
export function makeSnippet(passages: Iterable<string>, terms: readonly SnippetTerm[], opts: SnippetOptions = {}): string {
  const maxPassages = opts.maxPassages ?? 4;
  const afterFound = opts.afterFound ?? 1;
  const maxChars = opts.maxChars ?? SNIPPET_CHARS;
  const matcher = matcherFor(terms, opts.languages ?? ['en']);
  let first: string | null = null;
  let best: Window | null = null;
  let n = 0;
  let foundAt = -1;
  for (const passage of passages) {
    if (first === null) first = passage;
    if (terms.length > 0) {
      const matches = matcher.matches(passage, terms.length, maxChars);
      const w = matches.length ? bestWindow(passage, matches, maxChars, terms.length) : null;
      if (w && (!best || w.score > best.score)) best = w;
      if (best && foundAt < 0) foundAt = n;
      if (best && best.distinct === terms.length) break;
    }
    if (++n >= maxPassages || (foundAt >= 0 && n - foundAt > afterFound)) break;
  }
  if (best) return render(best, matcher, maxChars);
  if (first === null) return '';
  const chars = opts.fallbackChars ?? 160;
  const head = collapseGap(first.slice(0, chars * 2)).trim().slice(0, chars);
  return escapeHtml(head) + (first.length > chars ? '…' : '');
}
