/**
 * Lexer for Owlet's search query language (see query.ts for the language and the public API).
 *
 * Splits user text into tokens, each carrying the 0-based index where it starts so that every
 * error can point at the character at fault. Terms are validated here (letters/digits present,
 * `*` only at the end) so that nothing a person types reaches FTS5 unchecked.
 */
import { OwletError, owletError } from '../../shared/errors.js';

export type FilterName = 'ext' | 'path' | 'after' | 'before';
export const FILTER_NAMES: readonly FilterName[] = ['ext', 'path', 'after', 'before'];

export type Token =
  /**
   * A word (`report`, `e-mail`, `rep*`), an exact word (`=report`: no other forms) or a quoted
   * phrase (`"annual report"`). `end` is the index just past it in the input.
   */
  | { type: 'term'; pos: number; end: number; text: string; prefix: boolean; phrase: boolean; exact: boolean }
  /** `name:value`; `valuePos` is where the value starts (inside the quotes when quoted). */
  | { type: 'filter'; pos: number; name: FilterName; value: string; valuePos: number }
  /** `-` directly in front of a word, phrase or `(`. */
  | { type: 'neg'; pos: number }
  | { type: 'and' | 'or' | 'not' | 'lparen' | 'rparen' | 'eof'; pos: number };

export function queryError(message: string, position: number): OwletError {
  return owletError('OWL_ERR_QUERY_INVALID', { reason: message }, { detail: { position } });
}

/**
 * Whitespace separates tokens. Control characters count as whitespace too: FTS5 reads its
 * query as a NUL-terminated string, so an embedded NUL would cut a quoted term short.
 */
const SEPARATOR = /[\s\p{Cc}]/u;
const SEPARATORS = /[\s\p{Cc}]+/gu;
const WORD_CHAR = /[\p{L}\p{N}]/u;

export function isSeparator(ch: string): boolean {
  return SEPARATOR.test(ch);
}

function endsBareWord(ch: string): boolean {
  return ch === '(' || ch === ')' || ch === '"' || SEPARATOR.test(ch);
}

const KNOWN_FILTERS = new Set<string>(FILTER_NAMES);
const FILTER_LIST = FILTER_NAMES.map((n) => `${n}:`).join(', ');

/**
 * When is a word with a colon a filter?
 *  - `name:value` where `name` is a known filter (ext, path, after, before; any letter case)
 *    is always that filter (an empty value is an error).
 *  - `name:value` where `name` is two or more ASCII letters and `value` is non-empty and does
 *    not start with `/` or `:` is taken as a mistyped or unsupported filter (`size:3`,
 *    `title:x`) and rejected with the list of known filters and a hint to quote it.
 *  - Anything else is ordinary text: `http://x` (value starts with `/`), `std::vector`
 *    (value starts with `:`), `10:30` (name is not letters), `C:\x` (one-letter name),
 *    `note:` (nothing after the colon). Quoting, e.g. `"size:3"`, always makes it text.
 * Returns null for ordinary text.
 */
function classifyColonWord(
  word: string,
  pos: number,
  value: string | undefined,
  valuePos: number,
): Extract<Token, { type: 'filter' }> | null {
  const m = /^([A-Za-z]+):/.exec(word);
  if (!m) return null;
  const rawName = m[1]!;
  const name = rawName.toLowerCase();
  const v = value ?? word.slice(m[0].length);
  if (KNOWN_FILTERS.has(name)) {
    if (v.trim() === '') {
      throw queryError(`the filter "${name}:" needs a value, e.g. ${exampleFor(name as FilterName)}`, valuePos);
    }
    return { type: 'filter', pos, name: name as FilterName, value: v, valuePos };
  }
  if (rawName.length >= 2 && v !== '' && !v.startsWith('/') && !v.startsWith(':')) {
    throw queryError(
      `unknown filter "${rawName}:"; the filters are ${FILTER_LIST} ` +
        `(to search for the text itself, put it in quotes: "${word}${value ?? ''}")`,
      pos,
    );
  }
  return null;
}

export function exampleFor(name: FilterName): string {
  switch (name) {
    case 'ext':
      return 'ext:pdf';
    case 'path':
      return 'path:projects/2024 or path:"My Documents"';
    case 'after':
      return 'after:2024-01-31';
    case 'before':
      return 'before:2024-12-31';
  }
}

/** Checks a bare word and turns it into a term token (`abc*` is a prefix term). */
function wordTerm(word: string, pos: number, exact = false): Extract<Token, { type: 'term' }> {
  const end = pos + word.length;
  let text = word;
  let prefix = false;
  if (text.endsWith('*')) {
    text = text.slice(0, -1);
    prefix = true;
  }
  if (!WORD_CHAR.test(text)) {
    throw queryError(`"${word}" has no letters or digits to search for; remove it or add a word`, pos);
  }
  const star = text.indexOf('*');
  if (star >= 0) {
    throw queryError(`"*" can only come at the end of a word, as in report* (found in "${word}")`, pos + star);
  }
  return { type: 'term', pos, end, text, prefix, phrase: false, exact };
}

function phraseTerm(raw: string, pos: number, end: number): Extract<Token, { type: 'term' }> {
  const text = raw.replace(SEPARATORS, ' ').trim();
  if (text === '') throw queryError('empty quotes ""; put the exact words to find between the quotes', pos);
  if (!WORD_CHAR.test(text)) {
    throw queryError(`the phrase "${text}" has no letters or digits to search for`, pos);
  }
  return { type: 'term', pos, end, text, prefix: false, phrase: true, exact: true };
}

/**
 * Tokenizes the whole input. `maxTerms` bounds how many words/phrases (negated ones included)
 * the query may hold; the error points at the first one over the limit.
 */
export function lex(input: string, maxTerms: number): Token[] {
  const tokens: Token[] = [];
  const n = input.length;
  let terms = 0;
  // After `-`, the next bare word is always literal text: `-OR` leaves out the word "or".
  let literalNext = false;

  const pushTerm = (t: Extract<Token, { type: 'term' }>): void => {
    terms++;
    if (terms > maxTerms) {
      throw queryError(`the query has more than ${maxTerms} words; search with fewer words`, t.pos);
    }
    tokens.push(t);
  };

  let i = 0;
  while (i < n) {
    const c = input[i]!;
    if (SEPARATOR.test(c)) {
      i++;
      continue;
    }
    const wasLiteral: boolean = literalNext;
    literalNext = false;

    if (c === '(' || c === ')') {
      tokens.push({ type: c === '(' ? 'lparen' : 'rparen', pos: i });
      i++;
      continue;
    }

    if (c === '"') {
      const close = input.indexOf('"', i + 1);
      if (close < 0) throw queryError('this quote is never closed; add the closing "', i);
      pushTerm(phraseTerm(input.slice(i + 1, close), i, close + 1));
      i = close + 1;
      if (input[i] === '*') {
        throw queryError('"*" works only at the end of a single word, not after a quoted phrase', i);
      }
      continue;
    }

    if (c === '-') {
      const next = input[i + 1];
      if (next === undefined || next === ')' || SEPARATOR.test(next)) {
        throw queryError('"-" must be followed directly by the word to leave out, as in -draft', i);
      }
      tokens.push({ type: 'neg', pos: i });
      literalNext = true;
      i++;
      continue;
    }

    // `=word`: this word exactly as written, none of its other forms. `="a b"` is just the phrase.
    if (c === '=') {
      const next = input[i + 1];
      if (next === undefined || next === '"' || endsBareWord(next) || next === '=' || next === '-') {
        if (next === '"') {
          i++;
          literalNext = wasLiteral;
          continue;
        }
        throw queryError('"=" must be followed directly by the word to match exactly, as in =running', i);
      }
      let j = i + 1;
      while (j < n && !endsBareWord(input[j]!)) j++;
      const t = wordTerm(input.slice(i + 1, j), i + 1, true);
      if (t.prefix) throw queryError('"=" and "*" contradict each other: =word matches one exact form, word* every word it starts', i);
      pushTerm({ ...t, pos: i });
      i = j;
      continue;
    }

    // A bare word runs up to whitespace, a parenthesis or a quote.
    let j = i;
    while (j < n && !endsBareWord(input[j]!)) j++;
    const word = input.slice(i, j);

    // `path:"My Documents/x"`: a filter name directly followed by a quoted value.
    if (input[j] === '"' && /^[A-Za-z]+:$/.test(word)) {
      const close = input.indexOf('"', j + 1);
      if (close < 0) throw queryError('this quote is never closed; add the closing "', j);
      const value = input.slice(j + 1, close);
      const filter = classifyColonWord(word, i, value, j + 1);
      if (filter) {
        tokens.push(filter);
        i = close + 1;
        continue;
      }
      // Not a filter-looking word (cannot happen with a non-empty value): fall through as text.
    }

    if (!wasLiteral && (word === 'AND' || word === 'OR' || word === 'NOT')) {
      tokens.push({ type: word === 'AND' ? 'and' : word === 'OR' ? 'or' : 'not', pos: i });
      i = j;
      continue;
    }

    const colon = word.indexOf(':');
    const filter = colon > 0 ? classifyColonWord(word, i, undefined, i + colon + 1) : null;
    if (filter) tokens.push(filter);
    else pushTerm(wordTerm(word, i));
    i = j;
  }
  tokens.push({ type: 'eof', pos: n });
  return tokens;
}
