import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { openDatabase } from '../../../src/indexer/store/db.js';
import { migrate } from '../../../src/indexer/store/migrations.js';
import { DocumentStore } from '../../../src/indexer/store/documents.js';
import { splitPassages, PASSAGE_CHARS } from '../../../src/indexer/store/passages.js';
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
