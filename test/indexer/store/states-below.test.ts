import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { openDatabase } from '../../../src/indexer/store/db.js';
import { migrate } from '../../../src/indexer/store/migrations.js';
import { DocumentStore } from '../../../src/indexer/store/documents.js';
import { tmpDir } from '../../helpers/tmp.js';

function storeWith(paths: readonly string[]) {
  const db = openDatabase(path.join(tmpDir(), 'index.db'));
  migrate(db);
  const store = new DocumentStore(db, () => 1_700_000_000_000);
  const rootId = store.ensureRoot('/r');
  store.transaction(() => {
    for (const p of paths) store.putIndexed({ path: p, rootId, ext: 'txt', size: 1, mtimeMs: 1, fileId: p, hash: 'h', title: null, extractor: 'text', text: 'word' });
  });
  return store;
}

test('statesBelow lists what is inside a folder at any depth, and nothing beside it', () => {
  const store = storeWith(['/r/a/b/1.txt', '/r/a/b/c/2.txt', '/r/a/b', '/r/a/bc/3.txt', '/r/a/b-x/4.txt', '/r/a/b0.txt', '/r/z.txt']);
  assert.deepEqual(store.statesBelow('/r/a/b', '/').map((s) => s.path).sort(), ['/r/a/b/1.txt', '/r/a/b/c/2.txt']);
  assert.deepEqual(store.statesBelow('/r/a', '/').length, 6);
  assert.deepEqual(store.statesBelow('/r/none', '/'), []);
});

test('statesBelow works with a backslash separator (Windows paths) and non-ASCII names', () => {
  const store = storeWith(['C:\\d\\x.txt', 'C:\\d\\é\\y.txt', 'C:\\d]\\z.txt', 'C:\\dé\\w.txt']);
  assert.deepEqual(store.statesBelow('C:\\d', '\\').map((s) => s.path).sort(), ['C:\\d\\x.txt', 'C:\\d\\é\\y.txt']);
});
