import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3-multiple-ciphers';
import { OwletError } from '../../../src/shared/errors.js';
import { foldTerm, parseQuery, type ParsedQuery } from '../../../src/indexer/search/query.js';
import { ftsString } from '../../../src/indexer/search/query-compile.js';

/** Asserts that parsing `input` fails with OWL_ERR_QUERY_INVALID, a message containing `fragment`, at `position`. */
function assertInvalid(input: string, fragment: string, position: number, opts?: Parameters<typeof parseQuery>[1]): void {
  assert.throws(
    () => parseQuery(input, opts),
    (e: unknown) => {
      assert.ok(e instanceof OwletError, `expected an OwletError for ${JSON.stringify(input)}, got ${String(e)}`);
      assert.equal(e.code, 'OWL_ERR_QUERY_INVALID');
      assert.ok(e.message.includes(fragment), `message for ${JSON.stringify(input)} was: ${e.message}`);
      assert.deepEqual(e.detail, { position }, `position for ${JSON.stringify(input)} (message: ${e.message})`);
      return true;
    },
  );
}

/** The compiled expression without stemming, column filters left out (they are tested below). */
const match = (input: string): string | null => parseQuery(input, { languages: [] }).match?.replaceAll('{title body} : ', '') ?? null;

describe('parseQuery: compiling words and operators to FTS5', () => {
  const cases: Array<[input: string, expected: string]> = [
    ['report', '"report"'],
    ['annual report', '"annual" AND "report"'],
    ['annual AND report', '"annual" AND "report"'],
    ['memo OR note', '"memo" OR "note"'],
    ['a OR b c', '"a" OR ("b" AND "c")'],
    ['a b OR c', '("a" AND "b") OR "c"'],
    ['a -b c', '("a" AND "c") NOT "b"'],
    ['a NOT b', '"a" NOT "b"'],
    ['a AND NOT b', '"a" NOT "b"'],
    ['a -b -c', '"a" NOT ("b" OR "c")'],
    ['(x OR y) -z', '("x" OR "y") NOT "z"'],
    ['a -(b OR c)', '"a" NOT ("b" OR "c")'],
    ['x OR (a -b)', '"x" OR ("a" NOT "b")'],
    ['"annual report"', '"annual report"'],
    ['"  annual \t report "', '"annual report"'],
    ['rep*', '"rep"*'],
    ['e-mail', '"e-mail"'],
    ['(memo OR note) 2024', '("memo" OR "note") AND "2024"'],
    ['((report))', '"report"'],
    ['a (b (c OR d))', '"a" AND ("b" AND ("c" OR "d"))'],
  ];
  for (const [input, expected] of cases) {
    it(`${input}  →  ${expected}`, () => assert.equal(match(input), expected));
  }

  it('operators are upper-case only: lower-case or/and/not are words', () => {
    assert.equal(match('this or that'), '"this" AND "or" AND "that"');
    assert.equal(match('Not And'), '"Not" AND "And"');
  });

  it('a word right after "-" is always literal text, even AND/OR/NOT', () => {
    assert.equal(match('x -OR'), '"x" NOT "OR"');
  });

  it('an FTS5 string doubles any " inside it', () => {
    assert.equal(ftsString('say "hi"'), '"say ""hi"""');
  });

  it('FTS5 syntax inside words stays inside the quoted string', () => {
    assert.equal(match('NEAR(a b)'), '"NEAR" AND ("a" AND "b")');
    assert.equal(match('x^y+z{w}'), '"x^y+z{w}"');
    assert.equal(match("o'brien;"), '"o\'brien;"');
  });

  it('a word with a colon that is not a filter is ordinary text (URLs, times, C++ scopes)', () => {
    assert.equal(match('http://example.com/a'), '"http://example.com/a"');
    assert.equal(match('10:30'), '"10:30"');
    assert.equal(match('std::vector'), '"std::vector"');
    assert.equal(match('C:\\Users'), '"C:\\Users"');
    assert.equal(match('note:'), '"note:"');
    assert.equal(match('"size:3"'), '"size:3"');
  });

  it('Unicode letters and digits are words', () => {
    assert.equal(match('café Ärger 東京 ٣'), '"café" AND "Ärger" AND "東京" AND "٣"');
  });

  it('control characters separate words (an embedded NUL would cut FTS5 strings short)', () => {
    assert.equal(match('a\u0000b'), '"a" AND "b"');
    assert.equal(match('"a\u0000b"'), '"a b"');
  });
});

describe('parseQuery: filters', () => {
  const noFilters = { ext: [], path: [] };

  it('a query with no filters has empty filter lists', () => {
    assert.deepEqual(parseQuery('report').filters, noFilters);
  });

  it('ext: is case-insensitive, takes an optional dot, and several mean any of them', () => {
    const q = parseQuery('report ext:PDF ext:.docx ext:pdf');
    assert.equal(match('report ext:PDF ext:.docx ext:pdf'), '"report"');
    assert.deepEqual(q.filters, { ext: ['pdf', 'docx'], path: [] });
    assert.deepEqual(parseQuery('EXT:tar.gz').filters.ext, ['tar.gz']);
  });

  it('path: is a substring kept as typed; quotes allow spaces; several must all match', () => {
    const q = parseQuery('path:projects/2024 path:"My Documents/x" invoice');
    assert.deepEqual(q.filters.path, ['projects/2024', 'My Documents/x']);
    assert.equal(match('path:projects/2024 path:"My Documents/x" invoice'), '"invoice"');
  });

  it('after: is local midnight of that day (inclusive); before: local midnight of that day (exclusive)', () => {
    const q = parseQuery('after:2024-01-01 before:2024-12-31');
    assert.equal(q.filters.afterMs, new Date(2024, 0, 1).getTime());
    assert.equal(q.filters.beforeMs, new Date(2024, 11, 31).getTime());
  });

  it('dates accept a full ISO 8601 date-time (local time without an offset)', () => {
    assert.equal(parseQuery('after:2024-03-05T14:30').filters.afterMs, new Date(2024, 2, 5, 14, 30).getTime());
    assert.equal(parseQuery('after:2024-03-05T14:30:15.250Z').filters.afterMs, Date.UTC(2024, 2, 5, 14, 30, 15, 250));
    assert.equal(parseQuery('before:2024-03-05T14:30:00+02:00').filters.beforeMs, Date.UTC(2024, 2, 5, 12, 30));
    assert.equal(parseQuery('before:"2024-03-05 14:30"').filters.beforeMs, new Date(2024, 2, 5, 14, 30).getTime());
  });

  it('dates relative to opts.now: today, yesterday, Nd, Nw, Nm (months), Ny — at local midnight', () => {
    const now = new Date(2024, 2, 31, 15, 45);
    const afterMs = (v: string): number | undefined => parseQuery(`after:${v}`, { now }).filters.afterMs;
    assert.equal(afterMs('today'), new Date(2024, 2, 31).getTime());
    assert.equal(afterMs('yesterday'), new Date(2024, 2, 30).getTime());
    assert.equal(afterMs('7d'), new Date(2024, 2, 24).getTime());
    assert.equal(afterMs('2w'), new Date(2024, 2, 17).getTime());
    assert.equal(afterMs('1m'), new Date(2024, 1, 29).getTime()); // Mar 31 minus a month: clamped to Feb 29
    assert.equal(afterMs('1y'), new Date(2023, 2, 31).getTime());
  });

  it('several date filters: the tightest bound wins', () => {
    const q = parseQuery('after:2024-01-01 after:2024-03-01 before:2024-12-01 before:2024-06-01');
    assert.equal(q.filters.afterMs, new Date(2024, 2, 1).getTime());
    assert.equal(q.filters.beforeMs, new Date(2024, 5, 1).getTime());
  });

  it('a filters-only query has neither match nor exclude', () => {
    assert.deepEqual(parseQuery('ext:pdf'), { match: null, exclude: null, filters: { ext: ['pdf'], path: [] }, highlight: [], exact: null, words: [] });
  });

  it('filters with only negated words: match is null and exclude is the OR of the negated terms', () => {
    const one = parseQuery('ext:pdf -draft', { languages: [] });
    assert.equal(one.match, null);
    assert.equal(one.exclude, '{title body} : "draft"');
    const two = parseQuery('-draft path:reports NOT "old copy"', { languages: [] });
    assert.equal(two.match, null);
    assert.equal(two.exclude, '{title body} : "draft" OR {title body} : "old copy"');
    assert.deepEqual(two.highlight, []);
  });

  it('explicit AND next to a filter is fine', () => {
    assert.equal(match('report AND ext:pdf'), '"report"');
  });
});

describe('parseQuery: highlight terms', () => {
  it('lists positive terms folded (lower-case, no diacritics), a phrase as one term, without duplicates', () => {
    assert.deepEqual(parseQuery('Café "Annual Report" rep* -draft report e-mail', { languages: [] }).highlight, [
      { text: 'cafe', prefix: false },
      { text: 'annual report', prefix: false, phrase: ['annual', 'report'] },
      { text: 'rep', prefix: true },
      { text: 'report', prefix: false },
      { text: 'e mail', prefix: false, phrase: ['e', 'mail'] },
    ]);
  });

  it('a plain word carries the stems of its other forms; =word, phrases and prefixes do not', () => {
    assert.deepEqual(parseQuery('running index =jumping "walking" talk*').highlight, [
      { text: 'running', prefix: false, stems: ['run'] },
      { text: 'index', prefix: false, stems: ['index'] },
      { text: 'jumping', prefix: false },
      { text: 'walking', prefix: false },
      { text: 'talk', prefix: true },
    ]);
  });

  it('skips everything under a negation', () => {
    assert.deepEqual(parseQuery('a -(b OR c) NOT d', { languages: [] }).highlight, [{ text: 'a', prefix: false }]);
  });

  it('foldTerm: NFD, combining marks removed, lower-case', () => {
    assert.equal(foldTerm('Crème BRÛLÉE'), 'creme brulee');
    assert.equal(foldTerm('İstanbul'), 'istanbul');
    assert.equal(foldTerm('Ｅ'), 'ｅ');
  });
});

describe('parseQuery: errors say what is wrong and where (detail.position)', () => {
  const cases: Array<[input: string, fragment: string, position: number]> = [
    ['', 'the query is empty', 0],
    ['   \t ', 'the query is empty', 0],
    ['say "hello', 'quote is never closed', 4],
    ['path:"My Documents', 'quote is never closed', 5],
    ['(a OR b', '"(" is never closed', 0],
    ['a (b (c)', '"(" is never closed', 2],
    ['a OR b)', '")" has no matching "("', 6],
    [')', '")" has no matching "("', 0],
    ['OR a', '"OR" needs a word before it', 0],
    ['a OR', '"OR" needs a word after it', 2],
    ['a AND', '"AND" needs a word after it', 2],
    ['AND a', '"AND" needs a word before it', 0],
    ['(a OR)', '"OR" needs a word after it', 3],
    ['a NOT', '"NOT" needs a word after it', 2],
    ['NOT', '"NOT" needs a word after it', 0],
    ['a OR OR b', '"OR" is directly followed by "OR"', 5],
    ['a AND OR b', '"AND" is directly followed by "OR"', 6],
    ['NOT NOT a', 'negates twice', 4],
    ['a --b', 'negates twice', 3],
    ['a - b', '"-" must be followed directly by the word', 2],
    ['""', 'empty quotes', 0],
    ['a " " b', 'empty quotes', 2],
    ['()', 'empty parentheses', 0],
    ['a ( ) b', 'empty parentheses', 2],
    ['size:3', 'unknown filter "size:"; the filters are ext:, path:, after:, before:', 0],
    ['report title:x', 'put it in quotes: "title:x"', 7],
    ['ext:', '"ext:" needs a value', 4],
    ['a path:""', '"path:" needs a value', 8],
    ['ext:pdf,doc', 'is not a file extension', 4],
    ['after:2024-13-45', '"2024-13-45" is not a valid date for after:', 6],
    ['before:2024-02-30', 'is not a valid date for before:', 7],
    ['after:2024-01-01T25:00', 'is not a valid date', 6],
    ['after:last-week', 'is not a valid date', 6],
    ['after:2024-06-01 before:2024-06-01', 'after: date must be earlier than the before: date', 17],
    ['before:2024-01-01 x after:2024-06-01', 'after: date must be earlier', 20],
    ['(ext:pdf)', 'cannot go inside parentheses; filters apply to the whole query', 1],
    ['a (b path:x)', 'filters apply to the whole query', 5],
    ['a OR ext:pdf', 'cannot be combined with OR', 5],
    ['-ext:pdf a', 'cannot be negated; filters apply to the whole query', 1],
    ['a NOT after:2024-01-01', 'cannot be negated', 6],
    ['!!!', '"!!!" has no letters or digits', 0],
    ['report *', '"*" has no letters or digits', 7],
    ['a "?!"', 'the phrase "?!" has no letters or digits', 2],
    ['a*b', '"*" can only come at the end of a word', 1],
    ['*a', '"*" can only come at the end of a word', 0],
    ['ab**', '"*" can only come at the end of a word', 2],
    ['"annual report"*', 'not after a quoted phrase', 15],
    ['a OR -b', 'a negated word needs a positive word beside it', 5],
    ['(-b)', 'a negated word needs a positive word beside it', 1],
    ['x (-b -c)', 'a negated word needs a positive word beside it', 3],
    ['-b', 'a query needs at least one word to look for', 0],
    ['NOT b -c', 'a query needs at least one word to look for', 0],
  ];
  for (const [input, fragment, position] of cases) {
    it(`${JSON.stringify(input)} → "${fragment}" at ${position}`, () => assertInvalid(input, fragment, position));
  }

  it('a query longer than maxLength (default 1000) is refused at the first character over the limit', () => {
    assertInvalid('a'.repeat(1001), 'too long (1001 characters, at most 1000)', 1000);
    assertInvalid('abcdef', 'at most 5', 5, { maxLength: 5 });
    assert.equal(match('a'.repeat(1000)), `"${'a'.repeat(1000)}"`);
  });

  it('more than maxTerms terms (default 64) is refused at the first term over the limit', () => {
    const words = Array.from({ length: 65 }, (_, i) => `w${i}`);
    assert.equal(parseQuery(words.slice(0, 64).join(' ')).highlight.length, 64);
    assertInvalid(words.join(' '), 'more than 64 words', words.slice(0, 64).join(' ').length + 1);
    assertInvalid('a "b c" -d', 'more than 2 words', 9, { maxTerms: 2 });
  });

  it('parentheses nested more than 32 deep are refused', () => {
    assert.equal(match(`${'('.repeat(32)}a${')'.repeat(32)}`), '"a"');
    assertInvalid(`${'('.repeat(33)}a${')'.repeat(33)}`, 'nested too deeply', 32);
  });
});

describe('parseQuery: compiled expressions run on a real FTS5 table', () => {
  const db = new Database(':memory:');
  const rows: Array<[title: string, body: string]> = [
    ['Annual report 2024', 'The annual report covers revenue and the e-mail campaign.'],
    ['Draft report', 'A draft of the quarterly report, not final.'],
    ['Café menu', 'Coffee and croissants at the café.'],
    ['Meeting notes', 'Notes about the reporting tool and a memo.'],
    ['Memo', 'Short memo about holidays.'],
  ];
  before(() => {
    db.exec(`CREATE VIRTUAL TABLE docs_fts USING fts5(title, body, stems, tokenize='unicode61 remove_diacritics 2')`);
    const insert = db.prepare("INSERT INTO docs_fts (rowid, title, body, stems) VALUES (?, ?, ?, '')");
    rows.forEach(([title, body], i) => insert.run(i + 1, title, body));
  });
  after(() => db.close());

  const rowids = (expr: string): number[] =>
    (db.prepare('SELECT rowid FROM docs_fts WHERE docs_fts MATCH ? ORDER BY rowid').all(expr) as Array<{ rowid: number }>).map(
      (r) => r.rowid,
    );
  const search = (input: string): number[] => {
    const q = parseQuery(input);
    assert.ok(q.match !== null, `${input} has a match expression`);
    return rowids(q.match);
  };

  const cases: Array<[input: string, expected: number[]]> = [
    ['report', [1, 2]],
    ['report annual', [1]],
    ['report AND draft', [2]],
    ['memo OR café', [3, 4, 5]],
    ['report -draft', [1]],
    ['report NOT draft', [1]],
    ['memo OR report -draft', [1, 4, 5]],
    ['"annual report"', [1]],
    ['"report annual"', []],
    ['report*', [1, 2, 4]],
    ['(memo OR coffee) -holidays', [3, 4]],
    ['cafe', [3]],
    ['CAFÉ', [3]],
    ['Cafe\u0301', [3]],
    ['e-mail', [1]],
    ['"e-mail campaign"', [1]],
    ['NEAR(report draft)', []],
    // Quoted, FTS5 column-filter syntax is just text: the phrase "title report" is in no row.
    ['"title:report"', []],
  ];
  for (const [input, expected] of cases) {
    it(`${input}  finds  [${expected.join(', ')}]`, () => assert.deepEqual(search(input), expected));
  }

  it('a negations-only query with a filter gives an exclude expression for the rows to leave out', () => {
    const q = parseQuery('ext:pdf -draft -holidays');
    assert.equal(q.match, null);
    assert.deepEqual(rowids(q.exclude!), [2, 5]);
  });
});

/** mulberry32: a tiny seeded PRNG so the property test is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('parseQuery: hostile input never produces an expression FTS5 rejects (property test)', () => {
  // Ordinary words are drawn three times in four, so that plenty of queries parse and reach FTS5.
  const WORDS = ['a', 'report', 'café', '東京', '42', 'e-mail', 'or', 'x*', 'AND', 'OR', 'NOT', '-x', '(a', 'b)', '"a b"', 'ext:pdf', 'running', '=runs', 'Häuser'];
  const PIECES = [
    '*', '**', '"', '""', '"a b"', '(', ')', '()',
    '-', '--', '-x', ':', 'a:b', 'ext:', 'ext:pdf', 'ext:.', 'path:', 'path:"', 'after:2024-01-01', 'before:x',
    'size:3', 'title:a', 'http://x', '=', '==a', '=*', '=a*', '="a"', 'AND', 'OR', 'NOT', 'NEAR(', 'NEAR', ',', '^', '+', '{', '}', '{title}',
    "'", "';", "'; DROP TABLE x; --", 'DROP', ';', '\\', '\u0000', '\t', '\n', '\u0301', '\u200b', '\ud800',
    '💥', 'Ǆ', '\uffff', '%', '_',
  ];
  const SEPARATORS = ['', '', ' ', ' ', '  '];

  it('2,000 seeded random queries: OWL_ERR_QUERY_INVALID or an expression FTS5 accepts', () => {
    const db = new Database(':memory:');
    try {
      db.exec(`CREATE VIRTUAL TABLE docs_fts USING fts5(title, body, stems, tokenize='unicode61 remove_diacritics 2')`);
      db.exec(`CREATE TABLE x (id INTEGER)`);
      db.prepare('INSERT INTO docs_fts (title, body) VALUES (?, ?)').run('report e-mail', 'café a 42 東京 x');
      const stmt = db.prepare('SELECT rowid FROM docs_fts WHERE docs_fts MATCH ?');
      const random = prng(0x0571e7);
      const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
      let accepted = 0;
      let rejected = 0;
      for (let n = 0; n < 2000; n++) {
        // "=" (exact words) and stemming are part of the language the property must hold for.
        const count = 1 + Math.floor(random() * 8);
        let input = '';
        for (let k = 0; k < count; k++) input += pick(random() < 0.75 ? WORDS : PIECES) + pick(SEPARATORS);
        let parsed: ParsedQuery;
        try {
          parsed = parseQuery(input);
        } catch (e) {
          assert.ok(e instanceof OwletError, `${JSON.stringify(input)} threw ${String(e)}`);
          assert.equal(e.code, 'OWL_ERR_QUERY_INVALID', JSON.stringify(input));
          const position = e.detail?.['position'];
          assert.ok(typeof position === 'number' && position >= 0 && position <= input.length, `${JSON.stringify(input)}: position ${String(position)}`);
          rejected++;
          continue;
        }
        for (const expr of [parsed.match, parsed.exclude]) {
          if (expr === null) continue;
          assert.doesNotThrow(() => stmt.all(expr), `${JSON.stringify(input)} compiled to ${JSON.stringify(expr)}`);
        }
        accepted++;
      }
      // Both outcomes must be well represented, or the test proves little.
      assert.ok(accepted >= 300, `accepted ${accepted}`);
      assert.ok(rejected >= 300, `rejected ${rejected}`);
      assert.equal((db.prepare('SELECT count(*) AS n FROM x').get() as { n: number }).n, 0);
    } finally {
      db.close();
    }
  });
});
