import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { openDatabase, type Db } from '../../../src/indexer/store/db.js';
import { migrate } from '../../../src/indexer/store/migrations.js';
import { DocumentStore } from '../../../src/indexer/store/documents.js';
import { SearchEngine } from '../../../src/indexer/search/search.js';
import { parseQuery } from '../../../src/indexer/search/query.js';
import { nameMatch } from '../../../src/indexer/search/name-match.js';
import { bm25Bound, phrasesOf, RankBound } from '../../../src/indexer/search/rank-bound.js';
import { tmpDir } from '../../helpers/tmp.js';

interface Doc {
  text: string;
  title?: string;
}

/**
 * A real index on disk; `sql` records every statement the search engines prepare (the Db is
 * theirs by injection), so a test can tell which way a page was ranked.
 */
function index(docs: Record<string, Doc>) {
  const db: Db = openDatabase(path.join(tmpDir(), 'index.db'));
  migrate(db, undefined, { languages: ['en'] });
  const store = new DocumentStore(db, Date.now, { languages: ['en'] });
  const rootId = store.ensureRoot('/r');
  db.transaction(() => {
    for (const [p, d] of Object.entries(docs)) {
      store.putIndexed({ path: `/r/${p}`, rootId, ext: path.extname(p).slice(1), size: d.text.length, mtimeMs: 1, fileId: null, hash: p, title: d.title ?? null, extractor: 'text', text: d.text, lang: 'en' });
    }
  })();
  const sql: string[] = [];
  const prepare = db.prepare.bind(db);
  db.prepare = ((text: string) => {
    sql.push(text);
    return prepare(text);
  }) as typeof db.prepare;
  const bounded = new SearchEngine(db, store, { languages: ['en'] });
  const full = new SearchEngine(db, store, { languages: ['en'], boundedRanking: false });
  const page = (engine: SearchEngine, q: string, limit: number, offset: number) => engine.search(parseQuery(q), { limit, offset });
  const fresh = (): SearchEngine => new SearchEngine(db, store, { languages: ['en'] });
  return { db, sql, bounded, full, page, fresh };
}

const names = (r: { hits: { path: string }[] }): string[] => r.hits.map((h) => path.basename(h.path));
const filler = (n: number): string => 'Some unrelated words about bread and jam. '.repeat(n);

describe('ranking tiers: the forms as typed first, each tier ranked on its own', () => {
  it('pages across the boundary between the tiers follow each other without gaps or repeats, and every page has the same total', () => {
    const docs: Record<string, Doc> = {};
    for (let i = 0; i < 7; i++) docs[`typed-${i}.txt`] = { text: `${'configured '.repeat(i + 1)} ${filler(i + 1)}` };
    for (let i = 0; i < 6; i++) docs[`other-${i}.txt`] = { text: `${'configuration '.repeat(i + 1)} ${filler(i + 1)}` };
    docs['none.txt'] = { text: filler(2) };
    const { bounded, page } = index(docs);
    const all = page(bounded, 'configured', 100, 0);
    assert.equal(all.total, 13);
    assert.deepEqual(names(all).map((n) => n.split('-')[0]), [...Array(7).fill('typed'), ...Array(6).fill('other')]);
    for (const size of [1, 3, 5, 7]) {
      const pages = [];
      for (let offset = 0; offset < 15; offset += size) {
        const p = page(bounded, 'configured', size, offset);
        assert.equal(p.total, 13, `limit ${size} offset ${offset}`);
        pages.push(...names(p));
      }
      assert.deepEqual(pages, names(all), `pages of ${size}`);
    }
    // Past the end: nothing, the total still counted.
    assert.deepEqual(page(bounded, 'configured', 5, 13), { total: 13, hits: [] });
  });

  it('limit 0 counts without ranking', () => {
    const { bounded, page } = index({ 'a.txt': { text: 'configured' }, 'b.txt': { text: 'configuration' } });
    assert.deepEqual(page(bounded, 'configured', 0, 0), { total: 2, hits: [] });
  });

  it('filters apply to both tiers and to their totals', () => {
    const { bounded, page } = index({
      'a.txt': { text: 'configured' },
      'b.md': { text: 'configured' },
      'c.txt': { text: 'configuration' },
      'd.md': { text: 'configuration' },
    });
    const r = page(bounded, 'configured ext:md', 10, 0);
    assert.deepEqual([r.total, names(r)], [2, ['b.md', 'd.md']]);
    assert.deepEqual(names(page(bounded, 'configured ext:md', 1, 1)), ['d.md']);
  });
});

describe('bounded ranking: a big tier ranked among its named documents', () => {
  /** 600 documents say "widget" (a word in most of them: BM25 gives it almost no weight); some are named for it. */
  function widgets(named: number) {
    const docs: Record<string, Doc> = {};
    for (let i = 0; i < 600; i++) {
      const isNamed = i % Math.floor(600 / named) === 0 && Object.keys(docs).filter((k) => k.startsWith('widget')).length < named;
      docs[`${isNamed ? 'widget' : 'page'}-${i}.txt`] = { text: `${'widget '.repeat(1 + (i % 7))}${filler(1 + (i % 5))}`, ...(i % 3 === 0 && !isNamed ? { title: `Notes on widgets and gadgets ${i}` } : {}) };
    }
    for (let i = 0; i < 150; i++) docs[`jam-${i}.txt`] = { text: filler(2) };
    return index(docs);
  }

  it('gives the same pages as ranking every hit, and scores only the named documents when they fill the page', () => {
    const { sql, bounded, full, page, fresh } = widgets(40);
    for (const [limit, offset] of [[10, 0], [10, 10], [25, 5], [40, 0], [100, 0], [10, 590]] as [number, number][]) {
      assert.deepEqual(page(bounded, 'widget', limit, offset), page(full, 'widget', limit, offset), `limit ${limit} offset ${offset}`);
    }
    // A new engine prepares (and so shows) every statement it runs.
    sql.length = 0;
    const first = page(fresh(), 'widget', 10, 0);
    assert.ok(names(first).every((n) => n.startsWith('widget-')), names(first).join(' '));
    assert.ok(sql.some((s) => s.includes('+docs_fts.rowid IN')), 'the named documents were ranked on their own');
    assert.ok(!sql.some((s) => s.includes('CASE WHEN')), 'no statement ranked every hit');
  });

  it('falls back to ranking every hit when the named documents cannot fill the page', () => {
    const { sql, full, page, fresh } = widgets(4);
    sql.length = 0;
    assert.deepEqual(page(fresh(), 'widget', 10, 0), page(full, 'widget', 10, 0));
    assert.ok(sql.some((s) => s.includes('CASE WHEN')), 'every hit was ranked');
  });

  it('the bound is above the BM25 of every row, and what it counts is each phrase in its columns', () => {
    const { db } = widgets(40);
    const bound = new RankBound(db);
    for (const q of ['widget', 'widget jam', 'widgets OR bread', '"unrelated words"', 'wid*']) {
      const p = parseQuery(q);
      for (const expr of [p.match!, p.exact].filter((e): e is string => e !== null)) {
        const b = bound.of(expr);
        assert.ok(b !== null, `a bound for ${expr}`);
        const max = (db.prepare('SELECT -bm25(docs_fts, 1, 1, 0.1) AS m FROM docs_fts WHERE docs_fts MATCH ? ORDER BY m DESC LIMIT 1').get(expr) as { m: number }).m;
        assert.ok(max < b, `${expr}: best BM25 ${max} under the bound ${b}`);
      }
    }
  });
});

describe('rank-bound helpers', () => {
  it('phrasesOf lists every phrase of a compiled expression with its column filter, or null for shapes it does not read', () => {
    assert.deepEqual(phrasesOf(parseQuery('running').match!), ['{title body} : "running"', '{title body} : "run"', 'stems : "run"']);
    assert.deepEqual(phrasesOf(parseQuery('datab* "a b"').match!), ['{title body} : "datab"*', '{title body} : "a b"']);
    assert.deepEqual(phrasesOf('{title body} : "say ""hi"" OR x"'), ['{title body} : "say ""hi"" OR x"']);
    assert.equal(phrasesOf('"bare"'), null);
    assert.equal(phrasesOf('{title body} : "a" AND "b"'), null);
  });

  it('bm25Bound: (k1 + 1) × the sum of the phrases\' IDF, never below FTS5\'s floor', () => {
    assert.ok(Math.abs(bm25Bound(100, [9]) - 2.2 * Math.log(91.5 / 9.5)) < 1e-12);
    assert.equal(bm25Bound(100, [60]), 2.2 * 1e-6);
    assert.ok(bm25Bound(100, [9, 50]) > bm25Bound(100, [9]));
  });
});

describe('nameMatch keeps labels per document: a new title is a new document', () => {
  it('the same path with another title scores by the new title', () => {
    const q = { terms: parseQuery('pickle').highlight, languages: ['en'] };
    assert.equal(nameMatch(q, '/r/a.html', 'pickle'), 1);
    assert.equal(nameMatch(q, '/r/a.html', 'marmalade'), 0);
    assert.equal(nameMatch(q, '/r/a.html', null), 0);
    assert.equal(nameMatch(q, '/r/pickle.html', null), 1);
  });
});

describe('the scope of a search: configured roots and filters', () => {
  function twoRoots() {
    const db: Db = openDatabase(path.join(tmpDir(), 'index.db'));
    migrate(db, undefined, { languages: ['en'] });
    const store = new DocumentStore(db, Date.now, { languages: ['en'] });
    for (const root of ['/a', '/b']) {
      const rootId = store.ensureRoot(root);
      for (let i = 0; i < 3; i++) {
        const p = `${root}/doc${i}.${i === 0 ? 'md' : 'txt'}`;
        store.putIndexed({ path: p, rootId, ext: path.extname(p).slice(1), size: 9, mtimeMs: 1, fileId: null, hash: p, title: null, extractor: 'text', text: i === 2 ? 'configuration' : 'configured', lang: 'en' });
      }
    }
    const sql: string[] = [];
    const prepare = db.prepare.bind(db);
    db.prepare = ((text: string) => {
      sql.push(text);
      return prepare(text);
    }) as typeof db.prepare;
    return { sql, engine: () => new SearchEngine(db, store, { languages: ['en'] }) };
  }
  const totals = (engine: SearchEngine, q: string, roots?: string[]) => {
    const r = engine.search(parseQuery(q), { limit: 10, offset: 0, ...(roots ? { roots } : {}) });
    return [r.total, r.hits.map((h) => h.path)] as const;
  };

  it('a root left out of the configuration is left out of hits and totals; every root configured finds everything', () => {
    const { engine } = twoRoots();
    const e = engine();
    assert.deepEqual(totals(e, 'configured', ['/b']), [3, ['/b/doc0.md', '/b/doc1.txt', '/b/doc2.txt']]);
    assert.deepEqual(totals(e, 'configured', ['/a', '/b'])[0], 6);
    assert.deepEqual(totals(e, 'configured', ['/b', '/a', '/elsewhere'])[0], 6);
    assert.deepEqual(totals(e, 'configured')[0], 6);
    assert.deepEqual(totals(e, 'configured', []), [0, []]);
    assert.deepEqual(totals(e, 'configured ext:md', ['/a', '/b'])[0], 2);
    assert.deepEqual(totals(e, 'configured ext:md', ['/a'])[0], 1);
  });

  it('with nothing to scope, hits are counted in the full-text index alone (no lookup of every document)', () => {
    const { sql, engine } = twoRoots();
    const e = engine();
    sql.length = 0;
    totals(e, 'configured', ['/a', '/b']);
    assert.ok(sql.includes('SELECT count(*) AS n FROM docs_fts WHERE docs_fts MATCH ?'), sql.join('\n'));
    sql.length = 0;
    totals(e, 'configured', ['/a']);
    assert.ok(sql.some((s) => s.startsWith('SELECT count(*) AS n FROM docs_fts JOIN documents d') && s.includes('root_id IN')), sql.join('\n'));
  });
});
