import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { openDatabase, closeDatabase } from '../../../src/indexer/store/db.js';
import { MIGRATIONS, SCHEMA_VERSION, migrate, schemaVersion } from '../../../src/indexer/store/migrations.js';
import { OwletError } from '../../../src/shared/errors.js';
import { tmpDir } from '../../helpers/tmp.js';

test('a new database is migrated to the latest schema, in WAL mode', () => {
  const file = path.join(tmpDir(), 'index.db');
  const db = openDatabase(file);
  assert.deepEqual(migrate(db), MIGRATIONS.map((m) => m.version));
  assert.equal(schemaVersion(db), SCHEMA_VERSION);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.deepEqual(migrate(db), [], 'migrating twice is a no-op');
  closeDatabase(db);
});

for (const from of [0, ...MIGRATIONS.slice(0, -1).map((m) => m.version)]) {
  test(`upgrading from schema ${from} reaches the latest schema and keeps data usable`, () => {
    const file = path.join(tmpDir(), 'index.db');
    const db = openDatabase(file);
    migrate(db, MIGRATIONS.filter((m) => m.version <= from));
    assert.equal(schemaVersion(db), from);
    migrate(db);
    assert.equal(schemaVersion(db), SCHEMA_VERSION);
    db.prepare("INSERT INTO roots (path, added_at) VALUES ('/r', 1)").run();
    db.prepare("INSERT INTO docs_fts (rowid, title, body) VALUES (1, 't', 'café au lait')").run();
    assert.equal(db.prepare("SELECT rowid FROM docs_fts WHERE docs_fts MATCH 'cafe'").all().length, 1, 'diacritics are folded');
    closeDatabase(db);
  });
}

test('a database from a newer Owlet is refused with a clear error, not modified', () => {
  const file = path.join(tmpDir(), 'index.db');
  const db = openDatabase(file);
  db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
  assert.throws(() => migrate(db), (e: unknown) => e instanceof OwletError && e.code === 'OWL_ERR_DB_NEWER' && /newer Owlet/.test(e.message));
  assert.equal(schemaVersion(db), SCHEMA_VERSION + 5);
  closeDatabase(db);
});

test('a failing migration rolls back completely', () => {
  const file = path.join(tmpDir(), 'index.db');
  const db = openDatabase(file);
  const broken = [...MIGRATIONS, { version: SCHEMA_VERSION + 1, description: 'broken', up: (d: typeof db) => d.exec('CREATE TABLE half (x); SELECT * FROM no_such_table;') }];
  assert.throws(() => migrate(db, broken));
  assert.equal(schemaVersion(db), SCHEMA_VERSION);
  const half = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'half'").get() as { n: number };
  assert.equal(half.n, 0, 'the half-made table was rolled back');
  closeDatabase(db);
});

test('a file that is not a database is reported as damaged', async () => {
  const fs = await import('node:fs');
  const file = path.join(tmpDir(), 'index.db');
  fs.writeFileSync(file, Buffer.alloc(8192, 0x41));
  assert.throws(() => openDatabase(file), (e: unknown) => e instanceof OwletError && e.code === 'OWL_ERR_DB_CORRUPT');
});

test('migration 3 moves stored passages into the rowid table without losing text', async () => {
  const { DocumentStore } = await import('../../../src/indexer/store/documents.js');
  const { packPassage } = await import('../../../src/indexer/store/passages.js');
  const file = path.join(tmpDir(), 'index.db');
  const db = openDatabase(file);
  migrate(db, MIGRATIONS.filter((m) => m.version <= 2));
  db.prepare("INSERT INTO roots (id, path, added_at) VALUES (1, '/r', 1)").run();
  db.prepare("INSERT INTO documents (id, path, root_id, ext, size, mtime_ms, status, indexed_at) VALUES (7, '/r/a.txt', 1, 'txt', 3, 1, 'indexed', 1)").run();
  db.prepare('INSERT INTO doc_text (doc_id, seq, data) VALUES (7, 0, ?), (7, 1, ?)').run(packPassage('first half, '), packPassage('second half'));
  migrate(db);
  assert.equal(new DocumentStore(db).text(7), 'first half, second half');
  closeDatabase(db);
});
