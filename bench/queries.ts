/**
 * The fixed query set, chosen from words of the Python, PostgreSQL and LaTeX documentation (both
 * corpora contain those docs). Recoll gets the same text: its query language reads AND, phrases,
 * `word*` and OR the same way (it also expands stems, Owlet does not; result counts differ).
 */
export interface BenchQuery {
  id: string;
  kind: string;
  /** Owlet query language. */
  q: string;
  /** Recoll query language (recollq argument). */
  recoll: string;
}

export const QUERIES: readonly BenchQuery[] = [
  { id: 'common', kind: 'single common word', q: 'function', recoll: 'function' },
  { id: 'rare', kind: 'single rare word', q: 'levenshtein', recoll: 'levenshtein' },
  { id: 'and', kind: 'two-word AND', q: 'table index', recoll: 'table index' },
  { id: 'phrase', kind: 'phrase', q: '"regular expression"', recoll: '"regular expression"' },
  { id: 'prefix', kind: 'prefix', q: 'datab*', recoll: 'datab*' },
  { id: 'or', kind: 'OR', q: 'kerberos OR fibonacci', recoll: 'kerberos OR fibonacci' },
];

/** Page size everywhere (in-process, HTTP, CLI, baseline, recollq -n). */
export const LIMIT = 10;
