/**
 * Words as the FTS5 `unicode61 remove_diacritics 2` tokenizer sees them, for the code that must
 * agree with it outside SQLite (stems column, snippets, suggestions).
 */

/** Letters, digits, private-use characters, and the combining marks that belong to a letter. */
export const WORD = /[\p{L}\p{N}\p{Co}][\p{L}\p{N}\p{Co}\p{M}]*/gu;
const ASCII = /^[\x00-\x7f]*$/;

/** Case and diacritic folding as the tokenizer does it: NFD, combining marks removed, lower case. */
export function fold(token: string): string {
  return ASCII.test(token) ? token.toLowerCase() : token.normalize('NFD').replace(/\p{M}+/gu, '').toLowerCase();
}

/** The words of `text`, as written. */
export function* words(text: string): Generator<string> {
  for (const m of text.matchAll(WORD)) yield m[0];
}

const STARTS = /^[\p{L}\p{N}\p{Co}]$/u;
const CONTINUES = /^\p{M}$/u;
/** 0: not in a word; 1: starts or continues one (letter, digit, private use); 2: only continues one (a mark). */
const ASCII_CLASS = new Uint8Array(128).map((_, c) => (STARTS.test(String.fromCharCode(c)) ? 1 : 0));
const wideClass = new Map<number, number>();

function classOf(cp: number): number {
  if (cp < 128) return ASCII_CLASS[cp]!;
  let k = wideClass.get(cp);
  if (k === undefined) {
    const s = String.fromCodePoint(cp);
    k = STARTS.test(s) ? 1 : CONTINUES.test(s) ? 2 : 0;
    // Bounded: a text can hold at most ~1.1 M distinct code points, and real ones far fewer.
    if (wideClass.size < 65_536) wideClass.set(cp, k);
  }
  return k;
}

/**
 * Calls `fn` with every word of `text` (exactly the words `WORD` matches), without the match
 * objects `matchAll` allocates: this is the indexing hot path (the stems column tokenises every
 * document's whole text), about twice as fast as the regular expression on ordinary text.
 */
export function forEachWord(text: string, fn: (word: string) => void): void {
  const len = text.length;
  let i = 0;
  let start = -1;
  while (i < len) {
    let cp = text.charCodeAt(i);
    let width = 1;
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < len) {
      const lo = text.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = ((cp - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
        width = 2;
      }
    }
    const k = classOf(cp);
    if (start < 0) {
      if (k === 1) start = i;
    } else if (k === 0) {
      fn(text.slice(start, i));
      start = -1;
    }
    i += width;
  }
  if (start >= 0) fn(text.slice(start));
}

/** Flags `forEachWordSpan` reports for a word. */
export const WORD_ASCII = 1;
export const WORD_DIGIT = 2;

/**
 * Like forEachWord, but reports each word as `text.slice(start, end)` without making that string,
 * with flags: WORD_ASCII when every character is ASCII, WORD_DIGIT when it holds an ASCII digit.
 * The stems column uses it to pass over the words whose stem is always the word itself (a fifth
 * of ordinary text) without allocating them.
 */
export function forEachWordSpan(text: string, fn: (start: number, end: number, flags: number) => void): void {
  const len = text.length;
  let i = 0;
  let start = -1;
  let flags = 0;
  while (i < len) {
    let cp = text.charCodeAt(i);
    let width = 1;
    let k: number;
    if (cp < 128) {
      k = ASCII_CLASS[cp]!;
    } else {
      if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < len) {
        const lo = text.charCodeAt(i + 1);
        if (lo >= 0xdc00 && lo <= 0xdfff) {
          cp = ((cp - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
          width = 2;
        }
      }
      k = classOf(cp);
    }
    if (start < 0) {
      if (k === 1) {
        start = i;
        flags = WORD_ASCII;
      }
    } else if (k === 0) {
      fn(start, i, flags);
      start = -1;
    }
    if (start >= 0) {
      if (cp >= 128) flags &= ~WORD_ASCII;
      else if (cp >= 0x30 && cp <= 0x39) flags |= WORD_DIGIT;
    }
    i += width;
  }
  if (start >= 0) fn(start, len, flags);
}
