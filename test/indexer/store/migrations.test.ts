import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { openDatabase, closeDatabase } from '../../../src/indexer/store/db.js';
import { DEFAULT_MIGRATION_CONTEXT, MIGRATIONS, SCHEMA_VERSION, migrate, schemaVersion } from '../../../src/indexer/store/migrations.js';
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
    db.prepare("INSERT INTO docs_fts (rowid, title, body, stems) VALUES (1, 't', 'café au lait', '')").run();
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
  const { packLegacyPassage: packPassage } = await import('../../../src/indexer/store/passages.js');
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

/**
 * Data written at every earlier schema version is carried through every later migration to the
 * current schema and stays usable: each document keeps its text, its title, and is found by a
 * word of its body and by another form of that word (the stems built by migration 4).
 */
for (const from of MIGRATIONS.slice(0, -1).map((m) => m.version)) {
  test(`documents written at schema ${from} are searchable after migrating to ${SCHEMA_VERSION}`, async () => {
    const { DocumentStore } = await import('../../../src/indexer/store/documents.js');
    const { packLegacyPassage: packPassage } = await import('../../../src/indexer/store/passages.js');
    const { SearchEngine } = await import('../../../src/indexer/search/search.js');
    const { parseQuery } = await import('../../../src/indexer/search/query.js');
    const db = openDatabase(path.join(tmpDir(), 'index.db'));
    migrate(db, MIGRATIONS.filter((m) => m.version <= from));
    db.prepare("INSERT INTO roots (id, path, added_at) VALUES (1, '/r', 1)").run();
    const docs = [
      { id: 3, path: '/r/config.txt', title: 'Setup notes', text: 'The server was configured by hand. '.repeat(3) },
      { id: 9, path: '/r/run.md', title: null, text: 'Running the tool twice is harmless.' },
    ];
    for (const d of docs) {
      db.prepare("INSERT INTO documents (id, path, root_id, ext, size, mtime_ms, title, status, indexed_at, text_bytes) VALUES (?, ?, 1, 'txt', 10, 1, ?, 'indexed', 1, ?)")
        .run(d.id, d.path, d.title, d.text.length);
      // The passage layout of that version: (doc_id, seq) before 3, one rowid key from 3 on.
      if (from < 3) db.prepare('INSERT INTO doc_text (doc_id, seq, data) VALUES (?, 0, ?)').run(d.id, packPassage(d.text));
      else db.prepare('INSERT INTO doc_text (id, data) VALUES (?, ?)').run(d.id * 1048576, packPassage(d.text));
      // The FTS row as that version's indexer wrote it (title column: title and file name); from
      // schema 4 on, the indexer also wrote the language and the stems column.
      if (from < 4) db.prepare('INSERT INTO docs_fts (rowid, title, body) VALUES (?, ?, ?)').run(d.id, `${d.title ?? ''} ${path.basename(d.path)}`, d.text);
      else {
        db.prepare("UPDATE documents SET lang = 'en' WHERE id = ?").run(d.id);
        new DocumentStore(db).insertFts(d.id, `${d.title ?? ''} ${path.basename(d.path)}`, d.text, 'en');
      }
    }
    if (from >= 2) db.prepare("INSERT INTO retry_queue (path, attempts, next_at, last_error) VALUES ('/r/busy.txt', 2, 5, 'EBUSY')").run();
    db.prepare("INSERT INTO meta (key, value) VALUES ('kept', 'yes')").run();

    assert.deepEqual(migrate(db), MIGRATIONS.filter((m) => m.version > from).map((m) => m.version));
    assert.equal(schemaVersion(db), SCHEMA_VERSION);
    const store = new DocumentStore(db);
    for (const d of docs) {
      assert.equal(store.text(d.id), d.text, `text of ${d.path}`);
      assert.equal(store.get(d.id)?.title, d.title);
      assert.equal(store.get(d.id)?.lang, 'en', from < 4 ? 'the language was detected from the stored text' : 'the language is kept');
    }
    const engine = new SearchEngine(db, store);
    const find = (q: string) => engine.search(parseQuery(q), { limit: 10, offset: 0 }).hits.map((h) => h.path);
    assert.deepEqual(find('configured'), ['/r/config.txt']);
    assert.deepEqual(find('configuration'), ['/r/config.txt'], 'another form finds it: stems were built from the stored text');
    assert.deepEqual(find('run'), ['/r/run.md']);
    assert.deepEqual(find('setup'), ['/r/config.txt'], 'the title is still searchable');
    assert.deepEqual(find('"run.md"'), ['/r/run.md'], 'the file name is still searchable');
    assert.equal((db.prepare("SELECT value FROM meta WHERE key = 'kept'").get() as { value: string }).value, 'yes');
    if (from >= 2) assert.equal((db.prepare('SELECT count(*) AS n FROM retry_queue').get() as { n: number }).n, 1);
    // New writes work on the migrated file.
    const id = store.putIndexed({ path: '/r/new.txt', rootId: 1, ext: 'txt', size: 1, mtimeMs: 1, fileId: null, hash: 'h', title: null, extractor: 'text', text: 'indexes rebuilt', lang: 'en' });
    assert.deepEqual(find('index'), ['/r/new.txt']);
    store.delete(id);
    closeDatabase(db);
  });
}

/**
 * Migration 6 (a smaller index) on a real encrypted file written the way schema 5 wrote it: 8 K
 * passages in raw deflate, FTS5 leaves of the default size. Afterwards every document is found
 * by a word of each of its old passages and by another form of a word, its text is unchanged,
 * every passage is in the new format, and no FTS5 leaf spills into an overflow page.
 */
test('migration 6 repacks passages and FTS leaves of an encrypted schema-5 index, every document still searchable', () => migration6({ repacks: true }));

test('migration 6 on an index over its repack limit only sets the leaf size (a start must stay under the ready deadline): old passages read as they are, every document still searchable', () =>
  migration6({ repacks: false }));

async function migration6({ repacks }: { repacks: boolean }): Promise<void> {
  const { DocumentStore, ftsTitle } = await import('../../../src/indexer/store/documents.js');
  const { packLegacyPassage, splitPassages, isCurrentPassage, LEGACY_PASSAGE_CHARS, PASSAGE_CHARS } = await import('../../../src/indexer/store/passages.js');
  const { SearchEngine } = await import('../../../src/indexer/search/search.js');
  const { parseQuery } = await import('../../../src/indexer/search/query.js');
  const { fileHeaderIsPlain } = await import('../../../src/indexer/security/cipher.js');
  const key = Buffer.alloc(32, 7);
  const file = path.join(tmpDir(), 'index.db');
  let db = openDatabase(file, { key });
  migrate(db, MIGRATIONS.filter((m) => m.version <= 5));
  db.prepare("INSERT INTO roots (id, path, added_at) VALUES (1, '/r', 1)").run();
  // Enough varied text for many full FTS5 leaves: 60 documents of ~40 K characters, each with a
  // marker word in every 8 K passage (`mark<doc>x<passage>`, letters only so it is one token).
  const letters = (n: number) => n.toString(26).split('').map((c) => String.fromCharCode(97 + parseInt(c, 26))).join('');
  const docs = Array.from({ length: 60 }, (_, i) => {
    const words = Array.from({ length: 5200 }, (_, w) => `${letters(i * 7919 + w * 31)}${w % 3 === 0 ? 'ing' : 'ed'}`);
    return { id: i + 1, path: `/r/doc${i}.txt`, title: i % 2 ? `Xylophones ${i}` : null, text: `The servers were configured. ${words.join(' ')}` };
  });
  const insert = db.prepare("INSERT INTO documents (id, path, root_id, ext, size, mtime_ms, title, status, indexed_at, text_bytes, lang) VALUES (?, ?, 1, 'txt', 10, 1, ?, 'indexed', 1, ?, 'en')");
  const store5 = new DocumentStore(db);
  const markers: { id: number; word: string }[] = [];
  db.transaction(() => {
    for (const d of docs) {
      const parts = splitPassages(d.text, LEGACY_PASSAGE_CHARS).map((p, seq) => `${p} mark${letters(d.id)}x${letters(seq)} `);
      parts.forEach((_, seq) => markers.push({ id: d.id, word: `mark${letters(d.id)}x${letters(seq)}` }));
      const text = parts.join('');
      insert.run(d.id, d.path, d.title, text.length);
      parts.forEach((p, seq) => db.prepare('INSERT INTO doc_text (id, data) VALUES (?, ?)').run(d.id * 1048576 + seq, packLegacyPassage(p)));
      store5.insertFts(d.id, ftsTitle(d.title, d.path), text, 'en');
      (d as { text: string }).text = text;
    }
  })();
  const overflowLeaves = () => (db.prepare("SELECT count(*) AS n FROM dbstat WHERE name = 'docs_fts_data' AND pagetype = 'overflow'").get() as { n: number }).n;
  assert.ok(overflowLeaves() > 10, 'schema 5 leaves spill into overflow pages (what migration 6 fixes)');
  closeDatabase(db);

  db = openDatabase(file, { key });
  const ctx = { ...DEFAULT_MIGRATION_CONTEXT, ...(repacks ? {} : { repackLimitPassages: 10 }) };
  assert.deepEqual(migrate(db, MIGRATIONS, ctx), MIGRATIONS.filter((m) => m.version > 5).map((m) => m.version));
  const store = new DocumentStore(db);
  for (const d of docs) assert.equal(store.text(d.id), d.text, `text of ${d.path}`);
  const rows = db.prepare('SELECT id, data FROM doc_text').all() as { id: number; data: Buffer }[];
  if (repacks) {
    assert.ok(rows.every((r) => isCurrentPassage(r.data)), 'every passage is in the new format');
    assert.equal(rows.length, docs.reduce((n, d) => n + splitPassages(d.text, PASSAGE_CHARS).length, 0), 'passages are split at the new size');
    assert.equal(overflowLeaves(), 0, 'every FTS5 leaf fits on its page');
  } else {
    assert.ok(rows.every((r) => !isCurrentPassage(r.data)), 'over the limit, the old passages stay as they were');
    assert.equal(rows.length, markers.length);
  }
  db.prepare("INSERT INTO docs_fts (docs_fts, rank) VALUES ('integrity-check', 0)").run();
  const engine = new SearchEngine(db, store);
  const find = (q: string) => engine.search(parseQuery(q), { limit: 100, offset: 0 }).hits.map((h) => h.path).sort();
  for (const m of markers) assert.deepEqual(find(m.word), [docs[m.id - 1]!.path], `${m.word} finds its document`);
  assert.equal(engine.search(parseQuery('configuration'), { limit: 0, offset: 0 }).total, docs.length, 'another form of a word finds every document');
  assert.equal(engine.search(parseQuery('xylophone'), { limit: 0, offset: 0 }).total, docs.length / 2, 'titles are searchable');
  // New writes land in the new format and are found.
  const id = store.putIndexed({ path: '/r/new.txt', rootId: 1, ext: 'txt', size: 1, mtimeMs: 1, fileId: null, hash: 'h', title: null, extractor: 'text', text: 'freshly written words', lang: 'en' });
  assert.deepEqual(find('freshly'), ['/r/new.txt']);
  assert.ok(isCurrentPassage((db.prepare('SELECT data FROM doc_text WHERE id = ?').get(id * 1048576) as { data: Buffer }).data));
  closeDatabase(db);
  assert.equal(fileHeaderIsPlain(file), false, 'the file is still encrypted');
}
