/**
 * Compiles a parsed query (query-parser.ts) into FTS5 MATCH syntax.
 *
 * Every term becomes an FTS5 string: `"..."` with `"` doubled inside, so no user text is ever
 * read by FTS5 as syntax (column filters, NEAR, `^`, `+`, `:`...). FTS5 tokenizes a string the
 * same way as the indexed text, so `e-mail` becomes the phrase `e mail`. A prefix term is
 * `"abc"*`. Compound operands are always parenthesized.
 *
 * FTS5's NOT is binary (`x NOT y`), so negations are gathered per conjunction:
 * `a -b c` → `("a" AND "c") NOT "b"`, `a -b -c` → `"a" NOT ("b" OR "c")`. A conjunction whose
 * items are all negated has nothing for NOT to subtract from and is refused; query.ts deals with
 * the one place where that is allowed (top level, when filters supply the candidate set).
 */
import { queryError } from './query-lexer.js';
import type { Node } from './query-parser.js';

export interface HighlightTerm {
  text: string;
  prefix: boolean;
}

/** Folds like the `unicode61 remove_diacritics 2` tokenizer: NFD, combining marks removed, lower-case. */
export function foldTerm(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
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

export function compileNode(node: Node): Compiled {
  switch (node.kind) {
    case 'term':
      return { expr: ftsString(node.text) + (node.prefix ? '*' : ''), compound: false };
    case 'group':
      return compileNode(node.item);
    case 'and':
      return compileConjunction(node.items);
    case 'or':
      return { expr: node.items.map((item) => wrap(compileNode(item))).join(' OR '), compound: true };
    case 'not':
      // A negation reached on its own: an OR branch (`a OR -b`) or a group like `(-b)`.
      return needsPositive(node.pos);
    case 'filter':
      // query.ts removes top-level filters and rejects all others before compiling.
      throw queryError('filters apply to the whole query', node.pos);
  }
}

/** Compiles the items of one conjunction: positives joined by AND, then `NOT` the negations. */
export function compileConjunction(items: readonly Node[]): Compiled {
  const positives = items.filter((n) => n.kind !== 'not');
  const negatives = items.filter((n): n is Extract<Node, { kind: 'not' }> => n.kind === 'not');
  if (positives.length === 0) return needsPositive(negatives[0]?.pos ?? 0);
  const pos: Compiled =
    positives.length === 1
      ? compileNode(positives[0]!)
      : { expr: positives.map((n) => wrap(compileNode(n))).join(' AND '), compound: true };
  if (negatives.length === 0) return pos;
  return { expr: `${wrap(pos)} NOT ${wrap(compileNegations(negatives))}`, compound: true };
}

/** The OR of the negated operands (`-b -c` → `"b" OR "c"`). */
export function compileNegations(negatives: ReadonlyArray<Extract<Node, { kind: 'not' }>>): Compiled {
  if (negatives.length === 1) return compileNode(negatives[0]!.item);
  return { expr: negatives.map((n) => wrap(compileNode(n.item))).join(' OR '), compound: true };
}

/**
 * Positive terms in order of appearance, folded and split into the words the tokenizer sees
 * (a phrase or `e-mail` gives one entry per word). For a prefix term only its last word is a
 * prefix. Terms under a negation are skipped. Duplicates are dropped.
 */
export function collectHighlights(nodes: readonly Node[]): HighlightTerm[] {
  const out: HighlightTerm[] = [];
  const seen = new Set<string>();
  const add = (text: string, prefix: boolean): void => {
    const key = `${prefix ? '*' : ' '}${text}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ text, prefix });
  };
  const visit = (n: Node): void => {
    switch (n.kind) {
      case 'term': {
        const words = foldTerm(n.text)
          .split(/[^\p{L}\p{N}]+/u)
          .filter((w) => w !== '');
        words.forEach((w, i) => add(w, n.prefix && i === words.length - 1));
        return;
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
