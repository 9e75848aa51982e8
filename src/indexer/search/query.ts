/**
 * Owlet's search query language, parsed into a safe FTS5 MATCH expression.
 *
 * User text never reaches FTS5 or SQL unparsed: every word becomes a quoted FTS5 string, and the
 * operators come from the parser only. Filters never reach FTS5 at all; they are returned as
 * values for the search layer to bind as SQL parameters.
 *
 * The language:
 *   report draft            both words (implicit AND); `report AND draft` is the same
 *   report OR memo          either word; OR binds looser than AND: `a OR b c` = `a OR (b AND c)`
 *   report -draft           leave out matches of draft; `NOT draft` is the same
 *   running                 any form of the word: running, runs, run (stemmed in every configured language)
 *   =running                the word exactly as written (case and diacritics still folded)
 *   "annual report"         the exact phrase (its words as written; "word" alone is exact too)
 *   rep*                    words starting with "rep" (the star only at the end of a word; as written)
 *   (memo OR note) 2024     grouping
 *   ext:pdf  ext:.PDF       file extension, case-insensitive; several ext: filters = any of them
 *   path:projects  path:"My Documents/x"
 *                           substring of the absolute path; several path: filters = all of them
 *   after:2024-01-01        modified on or after that day (local midnight, inclusive)
 *   before:2024-12-31       modified before that day (local midnight, so the day is excluded)
 *
 * Operators are recognised in upper case only (`or` is an ordinary word). Case and diacritics
 * are folded by the FTS5 tokenizer (`unicode61 remove_diacritics 2`), so `cafe` finds `café`.
 * Filters are top-level only: one inside parentheses, under OR or negated is an error.
 * For when a word with a colon counts as a filter, see classifyColonWord in query-lexer.ts.
 *
 * Dates: `YYYY-MM-DD` (local midnight), a full ISO 8601 date-time (`2024-01-31T14:30`,
 * `2024-01-31T14:30:00Z`, `2024-01-31T14:30:00.5+02:00`; without an offset it is local time),
 * or relative to `opts.now`: `today`, `yesterday`, `7d`, `2w`, `3m` (months), `1y`, each meaning
 * local midnight that many days/weeks/months/years before today.
 */
import { OwletError } from '../../shared/errors.js';
import { collectHighlights, compileConjunction, compileNegations, foldTerm, type CompileOptions, type HighlightTerm } from './query-compile.js';
import { exampleFor, isSeparator, lex, queryError } from './query-lexer.js';
import { parse, type Node } from './query-parser.js';

export { foldTerm };
export type { HighlightTerm };

export interface SearchFilters {
  /** Lower-case extensions without the dot, de-duplicated; a file matches if its extension is any of them. */
  ext: string[];
  /** Substrings of the absolute path, de-duplicated; a file must contain all of them. */
  path: string[];
  /** Inclusive lower bound on the modification time, epoch milliseconds. */
  afterMs?: number;
  /** Exclusive upper bound on the modification time, epoch milliseconds. */
  beforeMs?: number;
}

export interface ParsedQuery {
  /** FTS5 MATCH expression for the positive part, or null when the query is filters only / negations only */
  match: string | null;
  /** FTS5 expression of top-level negated terms when `match` is null (search then excludes rowids matching it), else null */
  exclude: string | null;
  filters: SearchFilters;
  /** Positive terms to mark in snippets (a phrase as one term; a word with the stems of its other forms) */
  highlight: HighlightTerm[];
  /**
   * The same positive expression matching only the forms as typed, or null when no word was
   * expanded: documents matching it rank first.
   */
  exact: string | null;
  /** Plain positive words as typed, with where they are in the input (for "did you mean"). */
  words: QueryWord[];
}

export interface QueryWord {
  text: string;
  /** [start, end) in the input. */
  start: number;
  end: number;
}

export interface ParseQueryOptions {
  /** The reference for relative dates (`today`, `7d`); defaults to the current time. */
  now?: Date;
  /** Longest accepted query in UTF-16 code units; default 1000. */
  maxLength?: number;
  /** Most words and phrases (negated ones included) in one query; default 64. */
  maxTerms?: number;
  /** Languages plain words are stemmed in (ISO 639-1); default English. Empty: no stemming. */
  languages?: readonly string[];
}

export const DEFAULT_MAX_LENGTH = 1000;
export const DEFAULT_MAX_TERMS = 64;

/**
 * Parses a search query. Throws OwletError OWL_ERR_QUERY_INVALID with `detail.position` (0-based
 * index into `input`) and a message saying what to change.
 */
export function parseQuery(input: string, opts: ParseQueryOptions = {}): ParsedQuery {
  const maxLength = opts.maxLength ?? DEFAULT_MAX_LENGTH;
  const maxTerms = opts.maxTerms ?? DEFAULT_MAX_TERMS;
  if (input.length > maxLength) {
    throw queryError(`the query is too long (${input.length} characters, at most ${maxLength})`, maxLength);
  }
  if ([...input].every(isSeparator)) throw queryError('the query is empty; type a word to search for', 0);

  const root = parse(lex(input, maxTerms));
  const conjuncts = root.kind === 'and' ? root.items : [root];
  checkFilterPlacement(root);

  const filterNodes = conjuncts.filter((n): n is Extract<Node, { kind: 'filter' }> => n.kind === 'filter');
  const filters = buildFilters(filterNodes, opts.now ?? new Date());
  const words = conjuncts.filter((n) => n.kind !== 'filter');
  const languages = opts.languages ?? ['en'];
  const highlight = collectHighlights(words, languages);
  const expanded: CompileOptions = { languages, expand: true };
  const typed = plainWords(words);

  if (words.length === 0) return { match: null, exclude: null, filters, highlight, exact: null, words: typed };
  const negatives = words.filter((n): n is Extract<Node, { kind: 'not' }> => n.kind === 'not');
  if (negatives.length === words.length) {
    if (filterNodes.length === 0) {
      throw queryError(
        'a query needs at least one word to look for; add a word (as in "report -draft") or a filter (as in "ext:pdf -draft")',
        negatives[0]!.pos,
      );
    }
    return { match: null, exclude: compileNegations(negatives, expanded).expr, filters, highlight, exact: null, words: typed };
  }
  const match = compileConjunction(words, expanded).expr;
  const exact = compileConjunction(words, { languages, expand: false }).expr;
  return { match, exclude: null, filters, highlight, exact: exact === match ? null : exact, words: typed };
}

/** Positive plain words (not phrases, not negated), in order. */
function plainWords(nodes: readonly Node[]): QueryWord[] {
  const out: QueryWord[] = [];
  const visit = (n: Node): void => {
    if (n.kind === 'term') {
      if (!n.phrase && !n.prefix) out.push({ text: n.text, start: n.pos, end: n.end });
    } else if (n.kind === 'group') visit(n.item);
    else if (n.kind === 'and' || n.kind === 'or') n.items.forEach(visit);
  };
  nodes.forEach(visit);
  return out;
}

/** Filters must be direct conjuncts of the whole query. */
function checkFilterPlacement(root: Node): void {
  const visit = (n: Node, topLevel: boolean, context: 'group' | 'or' | 'not' | null): void => {
    switch (n.kind) {
      case 'filter': {
        if (topLevel) return;
        const f = `"${n.name}:"`;
        const why =
          context === 'not'
            ? `the filter ${f} cannot be negated`
            : context === 'or'
              ? `the filter ${f} cannot be combined with OR (several ext: filters already mean any of them)`
              : `the filter ${f} cannot go inside parentheses`;
        throw queryError(`${why}; filters apply to the whole query`, n.pos);
      }
      case 'term':
        return;
      case 'and':
        return n.items.forEach((c) => visit(c, topLevel, context));
      case 'or':
        return n.items.forEach((c) => visit(c, false, 'or'));
      case 'not':
        return visit(n.item, false, 'not');
      case 'group':
        return visit(n.item, false, context ?? 'group');
    }
  };
  visit(root, true, null);
}

function buildFilters(nodes: ReadonlyArray<Extract<Node, { kind: 'filter' }>>, now: Date): SearchFilters {
  const filters: SearchFilters = { ext: [], path: [] };
  let afterPos = -1;
  let beforePos = -1;
  for (const f of nodes) {
    switch (f.name) {
      case 'ext': {
        const ext = f.value.toLowerCase().replace(/^\./, '');
        if (!/^[\p{L}\p{N}_+-]+(?:\.[\p{L}\p{N}_+-]+)*$/u.test(ext)) {
          throw queryError(`"${f.value}" is not a file extension; write it like ${exampleFor('ext')} (one ext: filter per extension)`, f.valuePos);
        }
        if (!filters.ext.includes(ext)) filters.ext.push(ext);
        break;
      }
      case 'path':
        if (!filters.path.includes(f.value)) filters.path.push(f.value);
        break;
      case 'after':
      case 'before': {
        const ms = parseDate(f.value, now);
        if (ms === null) {
          throw queryError(
            `"${f.value}" is not a valid date for ${f.name}:; use YYYY-MM-DD (${exampleFor(f.name)}), an ISO date-time, or today, yesterday, 7d, 2w, 3m, 1y`,
            f.valuePos,
          );
        }
        // Every filter must hold, so the tightest bound wins.
        if (f.name === 'after') {
          if (filters.afterMs === undefined || ms > filters.afterMs) filters.afterMs = ms;
          afterPos = Math.max(afterPos, f.pos);
        } else {
          if (filters.beforeMs === undefined || ms < filters.beforeMs) filters.beforeMs = ms;
          beforePos = Math.max(beforePos, f.pos);
        }
        break;
      }
    }
  }
  if (filters.afterMs !== undefined && filters.beforeMs !== undefined && filters.afterMs >= filters.beforeMs) {
    throw queryError('the after: date must be earlier than the before: date, or nothing can match', Math.max(afterPos, beforePos));
  }
  return filters;
}

function localDate(y: number, m: number, d: number, h = 0, mi = 0, s = 0, ms = 0): number | null {
  const t = new Date(2000, 0, 1);
  t.setFullYear(y, m - 1, d); // setFullYear: years 0-99 are not shifted into the 1900s
  t.setHours(h, mi, s, ms);
  if (t.getFullYear() !== y || t.getMonth() !== m - 1 || t.getDate() !== d) return null;
  return t.getTime();
}

/** Epoch ms for a date filter value, or null if it is not a date. */
export function parseDate(value: string, now: Date): number | null {
  const v = value.trim();
  let m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (m) return localDate(Number(m[1]), Number(m[2]), Number(m[3]));

  m = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?$/.exec(v);
  if (m) {
    const [y, mo, d, h, mi] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
    const s = m[6] === undefined ? 0 : Number(m[6]);
    const ms = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
    if (h > 23 || mi > 59 || s > 59) return null;
    const zone = m[8];
    if (zone === undefined) return localDate(y, mo, d, h, mi, s, ms);
    const day = new Date(0);
    day.setUTCFullYear(y, mo - 1, d);
    if (day.getUTCFullYear() !== y || day.getUTCMonth() !== mo - 1 || day.getUTCDate() !== d) return null;
    day.setUTCHours(h, mi, s, ms);
    let offsetMin = 0;
    if (zone !== 'Z' && zone !== 'z') {
      const oh = Number(zone.slice(1, 3));
      const om = Number(zone.slice(3).replace(':', '') || '0');
      if (oh > 23 || om > 59) return null;
      offsetMin = (zone.startsWith('-') ? -1 : 1) * (oh * 60 + om);
    }
    return day.getTime() - offsetMin * 60_000;
  }

  const today = [now.getFullYear(), now.getMonth() + 1, now.getDate()] as const;
  const lower = v.toLowerCase();
  if (lower === 'today') return localDate(...today);
  if (lower === 'yesterday') return shiftDays(today, -1);
  m = /^(\d{1,4})([dwmy])$/.exec(lower);
  if (m) {
    const n = Number(m[1]);
    switch (m[2]) {
      case 'd':
        return shiftDays(today, -n);
      case 'w':
        return shiftDays(today, -7 * n);
      case 'm':
        return shiftMonths(today, -n);
      case 'y':
        return shiftMonths(today, -12 * n);
    }
  }
  return null;
}

/** Local midnight `delta` calendar days from the given day (DST-safe: calendar arithmetic, not 24 h steps). */
function shiftDays([y, m, d]: readonly [number, number, number], delta: number): number | null {
  const t = new Date(2000, 0, 1);
  t.setFullYear(y, m - 1, d + delta);
  t.setHours(0, 0, 0, 0);
  return t.getTime();
}

/** Local midnight `delta` months from the given day, the day clamped to the month's length (Mar 31 - 1m = Feb 29/28). */
function shiftMonths([y, m, d]: readonly [number, number, number], delta: number): number | null {
  const index = y * 12 + (m - 1) + delta;
  const ty = Math.floor(index / 12);
  const tm = index - ty * 12 + 1;
  const last = new Date(2000, 0, 1);
  last.setFullYear(ty, tm, 0); // day 0 of the next month = last day of this one
  return localDate(ty, tm, Math.min(d, last.getDate()));
}

/** Type guard for callers that catch: true for errors thrown by parseQuery. */
export function isQueryError(e: unknown): e is OwletError {
  return e instanceof OwletError && e.code === 'OWL_ERR_QUERY_INVALID';
}
