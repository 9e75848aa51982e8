/**
 * Builds a snippet for one hit from its stored passages. Work is bounded: at most `maxPassages`
 * passages are inflated and tokenised, and scanning stops at the first window that holds every term.
 */
export interface SnippetTerm {
  text: string;
  prefix: boolean;
}

export interface SnippetOptions {
  maxPassages?: number;
  windowTokens?: number;
  /** Characters shown when no term is found in the passages scanned. */
  fallbackChars?: number;
}

const WORD = /[\p{L}\p{N}\p{Co}]+/gu;
const ASCII = /^[\x00-\x7f]*$/;

export function fold(token: string): string {
  return ASCII.test(token) ? token.toLowerCase() : token.normalize('NFD').replace(/\p{M}+/gu, '').toLowerCase();
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;'));
}

interface Tok {
  start: number;
  end: number;
  term: number; // index into terms, -1 when not a match
}

function termIndex(folded: string, terms: readonly SnippetTerm[]): number {
  for (let i = 0; i < terms.length; i++) {
    const t = terms[i]!;
    if (t.prefix ? folded.startsWith(t.text) : folded === t.text) return i;
  }
  return -1;
}

function tokenize(text: string, terms: readonly SnippetTerm[]): Tok[] {
  const toks: Tok[] = [];
  for (const m of text.matchAll(WORD)) {
    const start = m.index;
    toks.push({ start, end: start + m[0].length, term: termIndex(fold(m[0]), terms) });
  }
  return toks;
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

function render(w: Window): string {
  const { passage, toks, from, to } = w;
  if (toks.length === 0) return '';
  const startChar = toks[from]!.start;
  const endChar = toks[to - 1]!.end;
  let out = from > 0 ? '…' : '';
  let pos = startChar;
  for (let k = from; k < to; k++) {
    const t = toks[k]!;
    if (t.term < 0) continue;
    out += escapeHtml(passage.slice(pos, t.start)) + '<mark>' + escapeHtml(passage.slice(t.start, t.end)) + '</mark>';
    pos = t.end;
  }
  out += escapeHtml(passage.slice(pos, endChar));
  if (to < toks.length) out += '…';
  return out.replace(/\s+/g, ' ').trim();
}

/**
 * Returns HTML-safe text: document text is escaped, matched words are wrapped in <mark></mark>.
 */
export function makeSnippet(passages: Iterable<string>, terms: readonly SnippetTerm[], opts: SnippetOptions = {}): string {
  const maxPassages = opts.maxPassages ?? 16;
  const width = opts.windowTokens ?? 24;
  let first: string | null = null;
  let best: Window | null = null;
  let n = 0;
  for (const passage of passages) {
    if (first === null) first = passage;
    if (terms.length > 0) {
      const w = bestWindow(passage, tokenize(passage, terms), width, terms.length);
      if (w && (!best || w.score > best.score)) best = w;
      if (best && best.distinct === terms.length) break;
    }
    if (++n >= maxPassages) break;
  }
  if (best) return render(best);
  if (first === null) return '';
  const chars = opts.fallbackChars ?? 160;
  const head = first.slice(0, chars).replace(/\s+/g, ' ').trim();
  return escapeHtml(head) + (first.length > chars ? '…' : '');
}
