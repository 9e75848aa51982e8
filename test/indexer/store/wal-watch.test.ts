import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import Database from 'better-sqlite3-multiple-ciphers';
import { openDatabase } from '../../../src/indexer/store/db.js';
import { WalWatch } from '../../../src/indexer/store/wal-watch.js';
import { tmpDir } from '../../helpers/tmp.js';

const driver = createRequire(import.meta.url).resolve('better-sqlite3-multiple-ciphers');

/** Counts rows from ANOTHER process, as `owlet doctor` or a CLI search would: a number, or the error code. */
function countElsewhere(file: string): number | string {
  const script = `const D = require(${JSON.stringify(driver)}); try { const d = new D(${JSON.stringify(file)}); process.stdout.write(String(d.prepare('SELECT count(*) AS n FROM t').get().n)); d.close(); } catch (e) { process.stdout.write(String(e.code || e.message)); }`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
  const out = r.stdout.trim();
  return /^\d+$/.test(out) ? Number(out) : out;
}

function fixture() {
  const file = path.join(tmpDir('owlet-wal-'), 'index.db');
  const db = openDatabase(file);
  db.exec('CREATE TABLE t (x INTEGER)');
  const insert = (n: number) => {
    const st = db.prepare('INSERT INTO t VALUES (?)');
    db.transaction(() => {
      for (let i = 0; i < n; i++) st.run(i);
    })();
  };
  return { file, db, insert, watch: new WalWatch(db, file) };
}

test('a WAL deleted under the open connection breaks other connections until it is healed; no commit is lost', () => {
  const { file, db, insert, watch } = fixture();
  insert(100);
  assert.equal(watch.check(), 'ok');
  assert.equal(countElsewhere(file), 100);

  fs.rmSync(`${file}-wal`);
  insert(50); // committed into the deleted file only
  assert.equal(watch.check(), 'missing');
  assert.match(String(countElsewhere(file)), /SQLITE_IOERR/, 'the failure this heals: another connection cannot read');
  // That other connection left an empty WAL of its own at the path.
  assert.equal(watch.check(), 'replaced');

  assert.deepEqual(watch.heal(), { healed: true, state: 'replaced' });
  assert.equal(watch.check(), 'ok');
  assert.equal(countElsewhere(file), 150, 'every commit, including those made after the deletion');
  // The connection writes to the new WAL at the path, so what it commits next is seen by others too.
  insert(25);
  assert.equal(countElsewhere(file), 175);
  db.close();
  const again = new Database(file);
  assert.equal((again.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 175);
  assert.equal(again.pragma('integrity_check', { simple: true }), 'ok');
  again.close();
});

test('healing waits, without blocking, while another connection holds the index; it heals at the next try', () => {
  const { file, db, insert, watch } = fixture();
  insert(10);
  const holder = new Database(file);
  holder.prepare('SELECT count(*) FROM t').get();
  fs.rmSync(`${file}-wal`);
  insert(5);
  const t0 = Date.now();
  const r = watch.heal();
  assert.equal(r.healed, false);
  assert.match(r.healed ? '' : (r.reason ?? ''), /another connection/);
  assert.ok(Date.now() - t0 < 1000, 'does not wait out the busy timeout');
  assert.equal(db.pragma('busy_timeout', { simple: true }), 5000, 'the busy timeout is restored');
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  holder.close();
  assert.deepEqual(watch.heal(), { healed: true, state: 'missing' });
  assert.equal(countElsewhere(file), 15);
  db.close();
});

test('an index file replaced under the connection (a restore, a recovery) is left alone: the WAL at the path is the new file\'s', () => {
  const { file, db, insert, watch } = fixture();
  insert(3);
  const other = path.join(path.dirname(file), 'other.db');
  const o = openDatabase(other);
  o.exec('CREATE TABLE t (x INTEGER)');
  o.prepare('INSERT INTO t VALUES (42)').run();
  fs.renameSync(other, file);
  fs.renameSync(`${other}-wal`, `${file}-wal`);
  assert.equal(watch.check(), 'ok');
  assert.deepEqual(watch.heal(), { healed: false, state: 'ok' });
  assert.ok(fs.existsSync(`${file}-wal`), "the new file's WAL is not deleted");
  o.close();
  db.close();
});

test('nothing to heal: an intact WAL, a closed connection, or an index file that is itself gone (recovery handles that)', () => {
  const { file, db, insert, watch } = fixture();
  insert(3);
  assert.deepEqual(watch.heal(), { healed: false, state: 'ok' });
  fs.renameSync(file, `${file}.moved`);
  fs.rmSync(`${file}-wal`);
  assert.equal(watch.check(), 'ok');
  fs.renameSync(`${file}.moved`, file);
  assert.equal(watch.check(), 'missing');
  db.close();
  assert.equal(watch.check(), 'ok');
});
