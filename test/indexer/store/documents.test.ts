import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { openDatabase } from '../../../src/indexer/store/db.js';
import { migrate } from '../../../src/indexer/store/migrations.js';
import { DocumentStore } from '../../../src/indexer/store/documents.js';
import { packPassage, splitPassages, PASSAGE_CHARS } from '../../../src/indexer/store/passages.js';
import { stemsText } from '../../../src/indexer/text/stem.js';
import { tmpDir } from '../../helpers/tmp.js';

function fresh() {
  const db = openDatabase(path.join(tmpDir(), 'index.db'));
  migrate(db);
  const store = new DocumentStore(db, () => 1_700_000_000_000);
  const rootId = store.ensureRoot('/r');
  return { db, store, rootId };
}

const meta = (rootId: number, p: string) => ({ path: p, rootId, ext: 'txt', size: 10, mtimeMs: 5, fileId: '1:2' });
const match = (db: ReturnType<typeof fresh>['db'], q: string) =>
  (db.prepare('SELECT rowid FROM docs_fts WHERE docs_fts MATCH ?').all(q) as { rowid: number }[]).map((r) => r.rowid);

test('an indexed document is searchable and its text round-trips through compressed passages', () => {
  const { db, store, rootId } = fresh();
  const text = 'zebra '.repeat(20000) + 'uniquetokenxyz';
  const id = store.putIndexed({ ...meta(rootId, '/r/a.txt'), hash: 'h', title: 'Animals', extractor: 'text', text });
  assert.deepEqual(match(db, 'uniquetokenxyz'), [id]);
  assert.deepEqual(match(db, 'title:animals'), [id]);
  assert.deepEqual(match(db, 'title:"a.txt"'), [id], 'the file name is searchable in the title column');
  assert.equal(store.text(id), text);
  assert.ok([...store.passages(id)].length > 1, 'long text is split into several passages');
  assert.equal(store.counts().indexed, 1);
});

test('re-indexing a path replaces its text; failing it removes it from search', () => {
  const { db, store, rootId } = fresh();
  const id = store.putIndexed({ ...meta(rootId, '/r/a.txt'), hash: 'h', title: null, extractor: 'text', text: 'oldword' });
  assert.equal(store.putIndexed({ ...meta(rootId, '/r/a.txt'), hash: 'h2', title: null, extractor: 'text', text: 'newword' }), id);
  assert.deepEqual(match(db, 'oldword'), []);
  assert.deepEqual(match(db, 'newword'), [id]);
  store.putUnindexed({ ...meta(rootId, '/r/a.txt'), status: 'failed', reason: 'parse-error', message: 'broken' });
  assert.deepEqual(match(db, 'newword'), []);
  assert.equal(store.problems()[0]?.reason, 'parse-error');
  assert.equal(store.counts().failed, 1);
});

test('rename keeps the text without re-extraction; delete removes row, text and index entry', () => {
  const { db, store, rootId } = fresh();
  const id = store.putIndexed({ ...meta(rootId, '/r/a.txt'), hash: 'h', title: null, extractor: 'text', text: 'keepme' });
  store.rename(id, { ...meta(rootId, '/r/renamed.txt') });
  assert.equal(store.stateOf('/r/a.txt'), undefined);
  assert.equal(store.stateOf('/r/renamed.txt')?.id, id);
  assert.deepEqual(match(db, 'keepme'), [id]);
  assert.deepEqual(match(db, 'title:renamed'), [id]);
  store.delete(id);
  assert.deepEqual(match(db, 'keepme'), []);
  assert.equal((db.prepare('SELECT count(*) AS n FROM doc_text').get() as { n: number }).n, 0);
});

test('a removed root takes its documents with it', () => {
  const { db, store, rootId } = fresh();
  store.putIndexed({ ...meta(rootId, '/r/a.txt'), hash: 'h', title: null, extractor: 'text', text: 'gone' });
  store.removeRoot(rootId);
  assert.deepEqual(match(db, 'gone'), []);
  assert.equal(store.roots().length, 0);
});

test('passages split at whitespace, never mid-word, and rejoin exactly', () => {
  const text = Array.from({ length: 16000 }, (_, i) => `word${i}`).join(' ') + ' 😀'.repeat(30000);
  const parts = splitPassages(text);
  assert.equal(parts.join(''), text);
  for (const p of parts.slice(0, -1)) {
    assert.ok(p.length <= PASSAGE_CHARS);
    assert.match(p, /\s$/, 'each passage ends at whitespace');
  }
});

test('the database file holds the text compressed (smaller than the raw text)', () => {
  const dir = tmpDir();
  const db = openDatabase(path.join(dir, 'index.db'));
  migrate(db);
  const store = new DocumentStore(db);
  const rootId = store.ensureRoot('/r');
  const text = fs.readFileSync(new URL(import.meta.url), 'utf8').repeat(200);
  store.putIndexed({ ...meta(rootId, '/r/a.txt'), hash: 'h', title: null, extractor: 'text', text });
  const stored = (db.prepare('SELECT sum(length(data)) AS n FROM doc_text').get() as { n: number }).n;
  assert.ok(stored < text.length / 3, `stored ${stored} bytes for ${text.length} characters`);
});

test('body stems made by the extraction worker are used when made in the store language, and made here otherwise', () => {
  const { db, store, rootId } = fresh();
  const text = 'the runners were running';
  assert.ok(stemsText(text, 'en').split(' ').includes('run'), 'precondition: the body has the stem run');
  // The worker's stems are taken as given (a marker word proves they were not made again here),
  // joined to the stems of the title.
  const given = store.putIndexed({ ...meta(rootId, '/r/a.txt'), hash: 'h', title: 'Configured', extractor: 'text', text, lang: 'en', bodyStems: { lang: 'en', text: 'workermade' } });
  // Made in another language than the store would stem in: ignored, the store stems the whole text.
  const other = store.putIndexed({ ...meta(rootId, '/r/b.txt'), hash: 'h', title: 'Configured', extractor: 'text', text, lang: 'en', bodyStems: { lang: 'de', text: 'workermade' } });
  const joined = store.putIndexed({ ...meta(rootId, '/r/c.txt'), hash: 'h', title: 'Configured', extractor: 'text', text, lang: 'en', bodyStems: { lang: 'en', text: stemsText(text, 'en') } });
  assert.deepEqual(match(db, 'stems:workermade'), [given]);
  assert.deepEqual(match(db, 'stems:configur'), [given, other, joined], 'the title is stemmed here in every case');
  assert.deepEqual(match(db, 'stems:run'), [other, joined]);
});

test('passages packed by the extraction worker are stored as given, and packed here when absent', () => {
  const { store, rootId } = fresh();
  const text = 'zebra '.repeat(12000) + 'tail';
  assert.ok(splitPassages(text).length > 1, 'precondition: the text spans several passages');
  // Marker passages that differ from the text prove the given ones were stored, not made again.
  const given = store.putIndexed({ ...meta(rootId, '/r/a.txt'), hash: 'h', title: null, extractor: 'text', text, passages: [packPassage('made '), packPassage('by the worker')] });
  const made = store.putIndexed({ ...meta(rootId, '/r/b.txt'), hash: 'h', title: null, extractor: 'text', text });
  assert.deepEqual([...store.passages(given)], ['made ', 'by the worker']);
  assert.equal(store.text(made), text);
  assert.deepEqual([...store.passages(made)], splitPassages(text));
});

const ftsEntries = (db: ReturnType<typeof fresh>['db']) => (db.prepare('SELECT count(*) AS n FROM docs_fts_docsize').get() as { n: number }).n;
const segments = (db: ReturnType<typeof fresh>['db']) => (db.prepare('SELECT count(DISTINCT segid) AS n FROM docs_fts_idx').get() as { n: number }).n;

test('a transaction of many documents writes the FTS index as one segment, not one per document', () => {
  // A write to `documents` opens a savepoint (its change-tracking triggers), and FTS5 flushes its
  // pending terms at every savepoint: interleaved, each document became its own segment.
  const { db, store, rootId } = fresh();
  store.transaction(() => {
    for (let i = 0; i < 40; i++) store.putIndexed({ ...meta(rootId, `/r/${i}.txt`), fileId: `1:${i}`, hash: 'h', title: null, extractor: 'text', text: `common word${i}` });
  });
  assert.equal(segments(db), 1);
  assert.equal(match(db, 'common').length, 40);
  assert.deepEqual(match(db, 'word7'), [store.stateOf('/r/7.txt')!.id]);
});

test('re-indexing existing documents in any order (as workers finish them) still writes one segment per transaction', () => {
  const { db, store, rootId } = fresh();
  const ids: number[] = [];
  store.transaction(() => {
    for (let i = 0; i < 30; i++) ids.push(store.putIndexed({ ...meta(rootId, `/r/${i}.txt`), fileId: `1:${i}`, hash: 'h', title: null, extractor: 'text', text: `old word${i}` }));
  });
  const before = segments(db);
  // Old ids, descending and shuffled: FTS5 flushes whenever a rowid steps down.
  const order = [...ids.keys()].sort((a, b) => ((a * 7919) % 31) - ((b * 7919) % 31));
  store.transaction(() => {
    for (const i of order) store.putIndexed({ ...meta(rootId, `/r/${i}.txt`), fileId: `1:${i}`, hash: 'h2', title: null, extractor: 'text', text: `new word${i}` });
  });
  assert.ok(segments(db) - before <= 1, `one new segment at most (${segments(db) - before})`);
  assert.equal(match(db, 'new').length, 30);
  assert.deepEqual(match(db, 'old'), []);
  assert.deepEqual(match(db, 'word11'), [ids[11]]);
});

test('within one transaction, FTS writes keep their order: re-index, rename, fail and delete end as written', () => {
  const { db, store, rootId } = fresh();
  const a = store.putIndexed({ ...meta(rootId, '/r/a.txt'), hash: 'h', title: null, extractor: 'text', text: 'alphaold' });
  const b = store.putIndexed({ ...meta(rootId, '/r/b.txt'), fileId: '1:3', hash: 'h', title: null, extractor: 'text', text: 'betaword' });
  const c = store.putIndexed({ ...meta(rootId, '/r/c.txt'), fileId: '1:4', hash: 'h', title: null, extractor: 'text', text: 'gammaword' });
  const e = store.putIndexed({ ...meta(rootId, '/r/e.txt'), fileId: '1:6', hash: 'h', title: null, extractor: 'text', text: 'epsilonold' });
  let d = 0;
  store.transaction(() => {
    // Renamed, then changed at its new path: the index ends with the new text only.
    store.rename(e, { ...meta(rootId, '/r/e2.txt'), fileId: '1:6' });
    store.putIndexed({ ...meta(rootId, '/r/e2.txt'), fileId: '1:6', hash: 'h2', title: null, extractor: 'text', text: 'epsilonnew' });
    store.putIndexed({ ...meta(rootId, '/r/a.txt'), hash: 'h2', title: null, extractor: 'text', text: 'alphamid' });
    store.putIndexed({ ...meta(rootId, '/r/a.txt'), hash: 'h3', title: null, extractor: 'text', text: 'alphanew' });
    store.rename(b, { ...meta(rootId, '/r/moved.txt'), fileId: '1:3' });
    store.putUnindexed({ ...meta(rootId, '/r/c.txt'), fileId: '1:4', status: 'failed', reason: 'crash', message: 'x' });
    d = store.putIndexed({ ...meta(rootId, '/r/d.txt'), fileId: '1:5', hash: 'h', title: null, extractor: 'text', text: 'deltaword' });
    store.delete(d);
  });
  assert.deepEqual(match(db, 'alphaold'), []);
  assert.deepEqual(match(db, 'alphamid'), []);
  assert.deepEqual(match(db, 'alphanew'), [a]);
  assert.deepEqual(match(db, 'betaword'), [b]);
  assert.deepEqual(match(db, 'title:moved'), [b]);
  assert.deepEqual(match(db, 'gammaword'), [], 'a failed document leaves the index');
  assert.equal(store.get(c)?.status, 'failed');
  assert.deepEqual(match(db, 'deltaword'), []);
  assert.deepEqual(match(db, 'epsilonold'), []);
  assert.deepEqual(match(db, 'epsilonnew'), [e]);
  assert.deepEqual(match(db, 'title:e2'), [e]);
  assert.equal(store.get(d), undefined);
  assert.equal(ftsEntries(db), store.counts().indexed, 'one FTS entry per indexed document');
});

test('a rolled-back transaction leaves no FTS entry behind, nor does a failed nested one inside a committed one', () => {
  const { db, store, rootId } = fresh();
  assert.throws(() =>
    store.transaction(() => {
      store.putIndexed({ ...meta(rootId, '/r/a.txt'), hash: 'h', title: null, extractor: 'text', text: 'lostword' });
      throw new Error('boom');
    }),
  );
  assert.deepEqual(match(db, 'lostword'), []);
  assert.equal(store.stateOf('/r/a.txt'), undefined);
  store.transaction(() => {
    store.putIndexed({ ...meta(rootId, '/r/kept.txt'), hash: 'h', title: null, extractor: 'text', text: 'keptword' });
    assert.throws(() =>
      store.transaction(() => {
        store.putIndexed({ ...meta(rootId, '/r/inner.txt'), fileId: '1:9', hash: 'h', title: null, extractor: 'text', text: 'innerword' });
        throw new Error('inner');
      }),
    );
  });
  assert.equal(match(db, 'keptword').length, 1);
  assert.deepEqual(match(db, 'innerword'), [], 'the nested transaction rolled back, its FTS write with it');
  assert.equal(store.stateOf('/r/inner.txt'), undefined);
  assert.equal(ftsEntries(db), store.counts().indexed, 'one FTS entry per indexed document');
});
