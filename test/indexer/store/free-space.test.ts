import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { openDatabase, closeDatabase } from '../../../src/indexer/store/db.js';
import { migrate } from '../../../src/indexer/store/migrations.js';
import { DocumentStore } from '../../../src/indexer/store/documents.js';
import { tmpDir } from '../../helpers/tmp.js';

/** Documents of varied words (compressible but not trivially), so both text and FTS pages fill up. */
function fill(store: DocumentStore, rootId: number, n: number, tag: string): number[] {
  const ids: number[] = [];
  store.transaction(() => {
    for (let i = 0; i < n; i++) {
      const text = Array.from({ length: 3000 }, (_, w) => `${tag}${(i * 7919 + w * 104729) % 50000}`).join(' ');
      ids.push(store.putIndexed({ path: `/r/${tag}${i}.txt`, rootId, ext: 'txt', size: 1, mtimeMs: 1, fileId: null, hash: 'h', title: null, extractor: 'text', text, lang: 'en' }));
    }
  });
  return ids;
}

for (const encrypted of [false, true]) {
  test(`a new ${encrypted ? 'encrypted ' : ''}index gives the pages it no longer uses back to the disk when closed`, () => {
    const file = path.join(tmpDir(), 'index.db');
    const key = encrypted ? Buffer.alloc(32, 9) : undefined;
    let db = openDatabase(file, { key });
    migrate(db);
    assert.equal(db.pragma('auto_vacuum', { simple: true }), 2, 'incremental auto-vacuum on a new file');
    const store = new DocumentStore(db);
    const rootId = store.ensureRoot('/r');
    const gone = fill(store, rootId, 40, 'gone');
    fill(store, rootId, 5, 'kept');
    closeDatabase(db);
    const full = fs.statSync(file).size;
    db = openDatabase(file, { key });
    const again = new DocumentStore(db);
    again.transaction(() => gone.forEach((id) => again.delete(id)));
    const free = db.pragma('freelist_count', { simple: true }) as number;
    assert.ok(free > 20, `removing documents frees pages (${free})`);
    closeDatabase(db);
    const after = fs.statSync(file).size;
    assert.ok(full - after >= free * 4096, `the file shrank by its ${free} free pages: from ${full} to ${after} bytes`);
    db = openDatabase(file, { key });
    assert.equal(db.pragma('freelist_count', { simple: true }), 0);
    assert.equal((db.prepare("SELECT count(*) AS n FROM docs_fts WHERE docs_fts MATCH 'kept1*'").get() as { n: number }).n > 0, true, 'what was kept is still found');
    assert.equal(db.pragma('quick_check', { simple: true }), 'ok');
    closeDatabase(db);
  });
}

test('a file made before incremental auto-vacuum keeps working and closes normally', () => {
  const file = path.join(tmpDir(), 'index.db');
  // As earlier Owlets made it: no auto-vacuum mode, tables created at once.
  const old = new Database(file);
  old.pragma('journal_mode = WAL');
  old.exec('CREATE TABLE t (x)');
  old.close();
  const db = openDatabase(file);
  assert.equal(db.pragma('auto_vacuum', { simple: true }), 0, 'an existing file keeps its mode');
  migrate(db);
  closeDatabase(db);
  assert.ok(fs.statSync(file).size > 0);
});
