import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { OwletError } from '../../../src/shared/errors.js';
import { isCorruptionError, plaintextReadFailure, sqliteFailureOf } from '../../../src/indexer/store/sqlite-errors.js';
import { classifySqliteError } from '../../../src/indexer/store/db.js';
import { isDiskFullError } from '../../../src/indexer/resilience/disk-space.js';
import { isCorruptionError as fromBackup } from '../../../src/indexer/store/damage.js';
import { isCorruptionError as fromTrap } from '../../../src/indexer/store/corruption-trap.js';

const coded = (code: string, message = code) => Object.assign(new Error(message), { code });

test('one classifier: SQLite codes, extended codes, Owlet codes and wrapped causes all land on the same kind', () => {
  assert.equal(sqliteFailureOf(coded('SQLITE_CORRUPT')), 'corrupt');
  assert.equal(sqliteFailureOf(coded('SQLITE_CORRUPT_VTAB')), 'corrupt');
  assert.equal(sqliteFailureOf(coded('SQLITE_NOTADB')), 'corrupt');
  assert.equal(sqliteFailureOf(coded('SQLITE_FULL')), 'full');
  assert.equal(sqliteFailureOf(coded('SQLITE_IOERR_WRITE', 'no space left on device')), 'full');
  assert.equal(sqliteFailureOf(coded('SQLITE_IOERR_WRITE', 'disk I/O error')), null);
  assert.equal(sqliteFailureOf(coded('SQLITE_BUSY_SNAPSHOT')), 'busy');
  assert.equal(sqliteFailureOf(coded('SQLITE_LOCKED')), 'busy');
  assert.equal(sqliteFailureOf(new OwletError('OWL_ERR_DB_CORRUPT', 'x')), 'corrupt');
  assert.equal(sqliteFailureOf(new OwletError('OWL_ERR_INTERNAL', 'wrapper', undefined, { cause: coded('SQLITE_CORRUPT') })), 'corrupt');
  // Worker threads pass on the text without the code.
  assert.equal(sqliteFailureOf(new Error('database disk image is malformed')), 'corrupt');
  assert.equal(sqliteFailureOf(coded('SQLITE_CONSTRAINT')), null);
  assert.equal(sqliteFailureOf(null), null);
  // Everything that asks "is it corrupt / is the disk full" asks this classifier.
  assert.equal(fromBackup, isCorruptionError);
  assert.equal(fromTrap, isCorruptionError);
  assert.ok(isDiskFullError(classifySqliteError(coded('SQLITE_FULL'), '/x/index.db')));
  assert.ok(isDiskFullError(coded('ENOSPC')));
  assert.equal(classifySqliteError(coded('SQLITE_CORRUPT'), '/x').code, 'OWL_ERR_DB_CORRUPT');
  assert.equal(classifySqliteError(coded('SQLITE_BUSY'), '/x').code, 'OWL_ERR_DB_BUSY');
  assert.equal(classifySqliteError(coded('SQLITE_CANTOPEN'), '/x').code, 'OWL_ERR_DB_OPEN');
});

test('a real damaged file is classified as corrupt', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'owlet-sqlerr-'));
  try {
    const file = path.join(dir, 'x.db');
    fs.writeFileSync(file, Buffer.alloc(8192, 0x5a));
    let err: unknown;
    try {
      new Database(file).prepare('SELECT * FROM sqlite_master').all();
    } catch (e) {
      err = e;
    }
    assert.ok(err, 'garbage must not open as a database');
    assert.ok(isCorruptionError(err));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a file that looks like plaintext SQLite but cannot be read as one is damage; I/O errors, unopenable files, permissions, locks and a full disk are not, so a real legacy index is never replaced over a transient fault (#11.13)', () => {
  const unreadable = plaintextReadFailure('/d/index.db', coded('SQLITE_ERROR', 'unsupported file format'));
  assert.ok(unreadable instanceof OwletError && unreadable.code === 'OWL_ERR_DB_CORRUPT');
  assert.match(unreadable.message, /begins like a plaintext SQLite database but cannot be read as one \(unsupported file format\)/);
  assert.equal(isCorruptionError(unreadable), true, 'recovery takes it');
  const wrapped = classifySqliteError(coded('SQLITE_ERROR', 'unsupported file format'), '/d/index.db');
  assert.equal((plaintextReadFailure('/d/index.db', wrapped) as OwletError).code, 'OWL_ERR_DB_CORRUPT', 'also when store/db.ts wrapped it');
  for (const e of [coded('SQLITE_BUSY', 'database is locked'), coded('SQLITE_FULL', 'database or disk is full'), coded('EACCES', 'permission denied'), coded('SQLITE_CANTOPEN', 'unable to open database file'), coded('SQLITE_IOERR_READ', 'disk I/O error'), coded('SQLITE_IOERR_WRITE', 'disk I/O error'), coded('SQLITE_READONLY', 'attempt to write a readonly database'), coded('SQLITE_PERM', 'access permission denied'), coded('SQLITE_NOMEM', 'out of memory'), coded('SQLITE_ERROR', 'no such table: documents')]) {
    assert.equal(plaintextReadFailure('/d/index.db', e), e, `${(e as { code: string }).code} passes through unchanged`);
  }
});
