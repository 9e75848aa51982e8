import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { openDatabase } from '../../../src/indexer/store/db.js';
import { applyMemoryLimits, releaseSqliteMemory } from '../../../src/indexer/store/memory.js';
import { tmpDir } from '../../helpers/tmp.js';

test('the memory knobs set SQLite cache and memory-mapped reads on the connection', () => {
  const db = openDatabase(path.join(tmpDir(), 'index.db'));
  applyMemoryLimits(db, { sqliteCacheMb: 3, sqliteMmapMb: 0 });
  assert.equal(db.pragma('cache_size', { simple: true }), -3 * 1024);
  assert.equal(db.pragma('mmap_size', { simple: true }), 0);
  applyMemoryLimits(db, { sqliteCacheMb: 16, sqliteMmapMb: 2 });
  assert.equal(db.pragma('cache_size', { simple: true }), -16 * 1024);
  assert.equal(db.pragma('mmap_size', { simple: true }), 2 * 1048576);
  db.close();
});

test('releasing SQLite memory works on an open connection and is a no-op on a closed one', () => {
  const db = openDatabase(path.join(tmpDir(), 'index.db'));
  db.exec('CREATE TABLE t (x TEXT)');
  db.prepare('INSERT INTO t VALUES (?)').run('a'.repeat(10_000));
  releaseSqliteMemory(db);
  assert.equal((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 1);
  db.close();
  assert.doesNotThrow(() => releaseSqliteMemory(db));
});
