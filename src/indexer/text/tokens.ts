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
