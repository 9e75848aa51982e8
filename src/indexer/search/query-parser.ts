/**
 * Recursive-descent parser for Owlet's search query language (see query.ts).
 *
 *   query   := or EOF
 *   or      := and ( "OR" and )*
 *   and     := unary ( ["AND"] unary )*        -- juxtaposition is AND
 *   unary   := ("NOT" | "-") primary | primary  -- a negation cannot be negated again
 *   primary := term | filter | "(" or ")"
 *
 * OR binds looser than AND. Filters are parsed wherever they appear; query.ts then rejects the
 * ones that are not top-level conjuncts, so the person gets a message about filters rather than
 * a generic syntax error.
 */
import { queryError, type FilterName, type Token } from './query-lexer.js';

export type Node =
  | { kind: 'term'; pos: number; end: number; text: string; prefix: boolean; phrase: boolean; exact: boolean }
  | { kind: 'filter'; pos: number; name: FilterName; value: string; valuePos: number }
  | { kind: 'and'; pos: number; items: Node[] }
  | { kind: 'or'; pos: number; items: Node[] }
  | { kind: 'not'; pos: number; item: Node }
  | { kind: 'group'; pos: number; item: Node };

/** Parentheses nested deeper than this are refused (keeps recursion and FTS5 expression depth small). */
export const MAX_NESTING = 32;

type OperandStart = 'term' | 'filter' | 'lparen' | 'not' | 'neg';
function startsOperand(t: Token): t is Extract<Token, { type: OperandStart }> {
  return t.type === 'term' || t.type === 'filter' || t.type === 'lparen' || t.type === 'not' || t.type === 'neg';
}

function opName(t: Token): string {
  switch (t.type) {
    case 'and':
      return 'AND';
    case 'or':
      return 'OR';
    case 'not':
      return 'NOT';
    case 'neg':
      return '-';
    default:
      return t.type;
  }
}

export function parse(tokens: readonly Token[]): Node {
  let at = 0;
  let depth = 0;
  const peek = (): Token => tokens[at]!;
  const next = (): Token => tokens[at++]!;

  /** An operator `op` was just consumed: the next token must begin its right-hand operand. */
  const requireOperandAfter = (op: Token): void => {
    const t = peek();
    if (startsOperand(t)) return;
    if (t.type === 'and' || t.type === 'or') {
      throw queryError(`"${opName(op)}" is directly followed by "${opName(t)}"; put a word between them`, t.pos);
    }
    const where = t.type === 'eof' ? 'at the end of the query' : 'before ")"';
    throw queryError(`"${opName(op)}" needs a word after it (nothing follows it ${where})`, op.pos);
  };

  const parseOr = (): Node => {
    const first = parseAnd();
    if (peek().type !== 'or') return first;
    const items = [first];
    while (peek().type === 'or') {
      requireOperandAfter(next());
      items.push(parseAnd());
    }
    return { kind: 'or', pos: first.pos, items };
  };

  const parseAnd = (): Node => {
    const first = parseUnary();
    const items = [first];
    for (;;) {
      const t = peek();
      if (t.type === 'and') {
        next();
        requireOperandAfter(t);
        items.push(parseUnary());
      } else if (startsOperand(t)) {
        items.push(parseUnary());
      } else {
        break;
      }
    }
    return items.length === 1 ? first : { kind: 'and', pos: first.pos, items };
  };

  const parseUnary = (): Node => {
    const t = peek();
    if (t.type === 'not' || t.type === 'neg') {
      next();
      requireOperandAfter(t);
      const u = peek();
      if (u.type === 'not' || u.type === 'neg') {
        throw queryError(`"${opName(u)}" right after "${opName(t)}" negates twice; keep only one`, u.pos);
      }
      return { kind: 'not', pos: t.pos, item: parsePrimary() };
    }
    return parsePrimary();
  };

  const parsePrimary = (): Node => {
    const t = next();
    switch (t.type) {
      case 'term':
        return { kind: 'term', pos: t.pos, end: t.end, text: t.text, prefix: t.prefix, phrase: t.phrase, exact: t.exact };
      case 'filter':
        return { kind: 'filter', pos: t.pos, name: t.name, value: t.value, valuePos: t.valuePos };
      case 'lparen': {
        const inner = peek();
        if (inner.type === 'rparen') throw queryError('empty parentheses "()"; put words inside or remove them', t.pos);
        if (inner.type === 'eof') throw queryError('this "(" is never closed; add a ")"', t.pos);
        if (++depth > MAX_NESTING) throw queryError(`parentheses are nested too deeply (at most ${MAX_NESTING} levels)`, t.pos);
        const item = parseOr();
        depth--;
        const close = next();
        if (close.type !== 'rparen') throw queryError('this "(" is never closed; add a ")"', t.pos);
        return { kind: 'group', pos: t.pos, item };
      }
      case 'and':
      case 'or':
        throw queryError(`"${opName(t)}" needs a word before it`, t.pos);
      case 'rparen':
        throw queryError('this ")" has no matching "("', t.pos);
      case 'eof':
        throw queryError('the query is empty; type a word to search for', t.pos);
      case 'not':
      case 'neg':
        // parseUnary consumes these; reaching here means a double negation slipped through.
        throw queryError(`"${opName(t)}" cannot be negated again; keep only one`, t.pos);
    }
  };

  const root = parseOr();
  const rest = peek();
  if (rest.type === 'rparen') throw queryError('this ")" has no matching "("', rest.pos);
  if (rest.type !== 'eof') throw queryError(`unexpected "${opName(rest)}"`, rest.pos);
  return root;
}
