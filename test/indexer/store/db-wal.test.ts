import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { openDatabase, closeDatabase, WAL_SIZE_LIMIT_BYTES } from '../../../src/indexer/store/db.js';
import { tmpDir } from '../../helpers/tmp.js';

/** How a writer's write-ahead log is checkpointed (issue #14: checkpoints ran on the indexer's thread, page by page through the cipher). */

function writer() {
  const file = path.join(tmpDir('owlet-wal-'), 'index.db');
  const db = openDatabase(file, { key: Buffer.alloc(32, 7) });
  db.exec('CREATE TABLE t (x BLOB)');
  const insert = db.prepare('INSERT INTO t VALUES (?)');
  /** Commits about `pages` pages of new rows, in commits of 100 pages. */
  const writePages = (pages: number) => {
    for (let done = 0; done < pages; done += 100) db.transaction(() => { for (let i = 0; i < 100; i++) insert.run(Buffer.alloc(3500, i)); })();
  };
  return { file, db, writePages };
}

const size = (f: string) => fs.statSync(f).size;

test('a writer checkpoints every 1,000 WAL pages, so the log cannot grow into the space a full disk just got back', (t) => {
  const { file, db, writePages } = writer();
  t.after(() => closeDatabase(db));
  assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 1000);
  const before = size(file);
  for (let i = 0; i < 6; i++) writePages(500);
  assert.ok(size(file) > before + 2000 * 4096, 'crossing the mark checkpointed the pages into the main file');
  assert.ok(size(`${file}-wal`) <= WAL_SIZE_LIMIT_BYTES + 600 * 4096, `WAL ${size(`${file}-wal`)} bytes`);
});

test('a checkpointed WAL is cut back to 4 MB instead of keeping its largest size', (t) => {
  const { file, db, writePages } = writer();
  t.after(() => closeDatabase(db));
  writePages(3000);
  const grown = size(`${file}-wal`);
  assert.ok(grown > WAL_SIZE_LIMIT_BYTES, `precondition: a WAL of ${grown} bytes`);
  db.pragma('wal_checkpoint(PASSIVE)');
  // The log is reset (and cut) by the first write after a complete checkpoint.
  writePages(100);
  assert.ok(size(`${file}-wal`) <= WAL_SIZE_LIMIT_BYTES, `WAL ${size(`${file}-wal`)} bytes after the reset`);
  assert.equal((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 3100, 'every row is still there');
});
