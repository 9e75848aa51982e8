/**
 * Compiles a parsed query (query-parser.ts) into FTS5 MATCH syntax.
 *
 * Every term becomes an FTS5 string: `"..."` with `"` doubled inside, so no user text is ever
 * read by FTS5 as syntax (column filters, NEAR, `^`, `+`, `:`...). FTS5 tokenizes a string the
 * same way as the indexed text, so `e-mail` becomes the phrase `e mail`. A prefix term is
 * `"abc"*`. Compound operands are always parenthesized.
 *
 * Stemming: the index holds each word as written (columns title, body) and, where its stem differs,
 * the stem (column stems; see text/stem.ts). A plain word `running` is stemmed in every configured
 * language and becomes `({title body} : ("running" OR "run") OR stems : ("run"))`: the word itself,
 * a word that is its own stem, or any word with that stem (`index` gives
 * `({title body} : ("index") OR stems : ("index"))`, which finds `indexes`). Phrases, prefixes and `=word` match the
 * words as written only (`{title body} : ...`). The same query compiled with `expand: false` is
 * the "exact" query that search.ts uses to rank documents holding the typed forms first.
 *
 * FTS5's NOT is binary (`x NOT y`), so negations are gathered per conjunction:
 * `a -b c` → `("a" AND "c") NOT "b"`, `a -b -c` → `"a" NOT ("b" OR "c")`. A conjunction whose
 * items are all negated has nothing for NOT to subtract from and is refused; query.ts deals with
 * the one place where that is allowed (top level, when filters supply the candidate set).
 */
import { queryError } from './query-lexer.js';
import type { Node } from './query-parser.js';
import { stemWord } from '../text/stem.js';
import { fold } from '../text/tokens.js';

export interface HighlightTerm {
  /** The folded word, or for a phrase its folded words joined by one space. */
  text: string;
  prefix: boolean;
  /** A phrase: its folded words, marked only where they follow each other. */
  phrase?: string[];
  /** Stems (in the configured languages) whose words also match; empty for exact terms. */
  stems?: string[];
}

export interface CompileOptions {
  /** Languages every plain word is stemmed in; empty: no stemming. */
  languages: readonly string[];
  /** False compiles the words as typed only (the exact-forms ranking tier). */
  expand: boolean;
}

/** The words-as-written columns: everything but the stems column. */
const WRITTEN = '{title body}';

/** Folds like the `unicode61 remove_diacritics 2` tokenizer: NFD, combining marks removed, lower-case. */
export function foldTerm(s: string): string {
  return fold(s);
}

/** The folded words of a term's text as the tokenizer splits them. */
function termWords(text: string): string[] {
  return foldTerm(text)
    .split(/[^\p{L}\p{N}\p{Co}]+/u)
    .filter((w) => w !== '');
}

type TermNode = Extract<Node, { kind: 'term' }>;

/** The stems (one per language, distinct) a plain single word expands to; none for phrases, prefixes, `=word` and multi-part words. */
export function termStems(node: TermNode, languages: readonly string[]): string[] {
  if (node.phrase || node.prefix || node.exact || languages.length === 0) return [];
  const ws = termWords(node.text);
  if (ws.length !== 1) return [];
  const word = node.text.normalize('NFC');
  const out: string[] = [];
  for (const l of languages) {
    const st = stemWord(word, l);
    if (st !== '' && !out.includes(st)) out.push(st);
  }
  return out;
}

interface Compiled {
  expr: string;
  /** True when the expression has a top-level operator and needs parentheses as an operand. */
  compound: boolean;
}

export function ftsString(text: string): string {
  return `"${text.replaceAll('"', '""')}"`;
}

function wrap(c: Compiled): string {
  return c.compound ? `(${c.expr})` : c.expr;
}

function needsPositive(pos: number): never {
  throw queryError(
    'a negated word needs a positive word beside it (as in "report -draft"); FTS5 can only leave out matches from something found',
    pos,
  );
}

function compileTerm(node: TermNode, opts: CompileOptions): Compiled {
  const written = ftsString(node.text) + (node.prefix ? '*' : '');
  const stems = opts.expand ? termStems(node, opts.languages) : [];
  if (stems.length === 0) return { expr: `${WRITTEN} : ${written}`, compound: false };
  // Words that are their own stem are not repeated in the stems column: look stems up as written too.
  const folded = foldTerm(node.text);
  const asWritten = [written, ...stems.filter((st) => st !== folded).map(ftsString)].join(' OR ');
  const anyStem = stems.map(ftsString).join(' OR ');
  return { expr: `(${WRITTEN} : (${asWritten}) OR stems : (${anyStem}))`, compound: false };
}

export function compileNode(node: Node, opts: CompileOptions): Compiled {
  switch (node.kind) {
    case 'term':
      return compileTerm(node, opts);
    case 'group':
      return compileNode(node.item, opts);
    case 'and':
      return compileConjunction(node.items, opts);
    case 'or':
      return { expr: node.items.map((item) => wrap(compileNode(item, opts))).join(' OR '), compound: true };
    case 'not':
      // A negation reached on its own: an OR branch (`a OR -b`) or a group like `(-b)`.
      return needsPositive(node.pos);
    case 'filter':
      // query.ts removes top-level filters and rejects all others before compiling.
      throw queryError('filters apply to the whole query', node.pos);
  }
}

/** Compiles the items of one conjunction: positives joined by AND, then `NOT` the negations. */
export function compileConjunction(items: readonly Node[], opts: CompileOptions): Compiled {
  const positives = items.filter((n) => n.kind !== 'not');
  const negatives = items.filter((n): n is Extract<Node, { kind: 'not' }> => n.kind === 'not');
  if (positives.length === 0) return needsPositive(negatives[0]?.pos ?? 0);
  const pos: Compiled =
    positives.length === 1
      ? compileNode(positives[0]!, opts)
      : { expr: positives.map((n) => wrap(compileNode(n, opts))).join(' AND '), compound: true };
  if (negatives.length === 0) return pos;
  // A negated word leaves out every form of it, also in the exact tier (same documents either way).
  return { expr: `${wrap(pos)} NOT ${wrap(compileNegations(negatives, { ...opts, expand: true }))}`, compound: true };
}

/** The OR of the negated operands (`-b -c` → `"b" OR "c"`). */
export function compileNegations(negatives: ReadonlyArray<Extract<Node, { kind: 'not' }>>, opts: CompileOptions): Compiled {
  if (negatives.length === 1) return compileNode(negatives[0]!.item, opts);
  return { expr: negatives.map((n) => wrap(compileNode(n.item, opts))).join(' OR '), compound: true };
}

/**
 * Positive terms in order of appearance, folded: one entry per word, with the stems its other
 * forms share, except a quoted phrase, which is one entry marked only as the whole phrase (its
 * words elsewhere are not what was asked for). A word like `e-mail` is a phrase of its parts. For
 * a prefix term only its last word is a prefix. Terms under a negation are skipped. Duplicates
 * are dropped.
 */
export function collectHighlights(nodes: readonly Node[], languages: readonly string[] = []): HighlightTerm[] {
  const out: HighlightTerm[] = [];
  const seen = new Set<string>();
  const add = (t: HighlightTerm): void => {
    const key = `${t.prefix ? '*' : ' '}${t.phrase ? '"' : ' '}${t.text}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(t);
  };
  const visit = (n: Node): void => {
    switch (n.kind) {
      case 'term': {
        const words = termWords(n.text);
        if (words.length === 0) return;
        if (n.phrase && words.length > 1) return add({ text: words.join(' '), prefix: false, phrase: words });
        if (words.length > 1) {
          // `e-mail*`: the parts in sequence; the last one is the prefix.
          if (!n.prefix) return add({ text: words.join(' '), prefix: false, phrase: words });
          return words.forEach((w, i) => add({ text: w, prefix: i === words.length - 1 }));
        }
        const stems = termStems(n, languages);
        return add(stems.length ? { text: words[0]!, prefix: n.prefix, stems } : { text: words[0]!, prefix: n.prefix });
      }
      case 'group':
        return visit(n.item);
      case 'and':
      case 'or':
        return n.items.forEach(visit);
      case 'not':
      case 'filter':
        return;
    }
  };
  nodes.forEach(visit);
  return out;
}
