import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { owletError } from '../../shared/errors.js';
import { closeDatabase, openDatabase } from './db.js';
import { applyKey, keyError, KEYINGS, rekey } from '../security/cipher.js';
import { newDataKey, openKeyedDatabase, promotePending, rekeyPath, sideFiles } from './data-key.js';
import { fsyncDir } from '../security/files.js';
import type { SecretStore } from '../security/secret-store.js';

export interface RotationResult {
  documents: number;
  bytes: number;
  ms: number;
}

/** Test hook: called between the steps, so a test can see (and kill at) each of them. */
export type RotationStep = 'pending-stored' | 'copied' | 'rekeyed' | 'verified' | 'swapped' | 'promoted';

/**
 * Re-encrypts a database under a new data key so that an interruption at any moment leaves it
 * openable with the old or the new key:
 *
 *   1. the new key is stored as `data-key-pending` (durable) before the file changes;
 *   2. a consistent copy is written with VACUUM INTO (still under the old key);
 *   3. the copy is rekeyed (rollback-journal mode) and verified under the new key;
 *   4. the copy replaces the file by an atomic rename;
 *   5. the new key is promoted to `data-key`, the old one retired (backups still need it).
 *
 * Until 4 the file opens with the old key; after 4, with the pending one, which openKeyedDatabase
 * tries second and promotes. `PRAGMA rekey` on the live file is not used: killed mid-way it left
 * a hot journal that neither key could open (measured here, 1 in 3 kills).
 */
/**
 * A re-encrypted copy of `file` (old key → new key) beside it, verified, ready to be swapped in:
 * VACUUM INTO under the old key, PRAGMA rekey on the copy (rollback-journal mode), quick_check
 * under the new key. Returns the copy's path; the original is untouched.
 */
export function prepareRekeyedCopy(file: string, oldKey: Buffer, newKey: Buffer): string {
  const tmp = rekeyPath(file);
  for (const f of [tmp, ...sideFiles(tmp)]) fs.rmSync(f, { force: true });
  const src = openDatabase(file, { key: oldKey });
  try {
    src.pragma('wal_checkpoint(TRUNCATE)');
    src.exec(`VACUUM INTO '${tmp.replace(/'/g, "''")}'`);
  } finally {
    closeDatabase(src);
  }
  fs.chmodSync(tmp, 0o600);
  rekeyCopy(tmp, oldKey, newKey);
  const check = openDatabase(tmp, { key: newKey });
  try {
    if (check.pragma('quick_check', { simple: true }) !== 'ok') throw owletError('OWL_ERR_DB_CORRUPT', { reason: `the re-encrypted copy of ${path.basename(file)} failed its check; the file is unchanged` });
  } finally {
    closeDatabase(check);
  }
  return tmp;
}

/** Swaps a prepared copy in for `file` (its old WAL/SHM must not meet the new file). */
export function swapInCopy(file: string, copy: string): void {
  for (const f of sideFiles(file)) {
    if (fs.existsSync(f) && fs.statSync(f).size > 0) throw owletError('OWL_ERR_DB_BUSY', { reason: `${path.basename(f)} is in use by another process; stop Owlet and try again` });
    fs.rmSync(f, { force: true });
  }
  fs.renameSync(copy, file);
  fsyncDir(path.dirname(file));
}

/**
 * Brings a companion database (metrics.db) that is still under an earlier key of this install to
 * the current key, e.g. after a rotation was interrupted between the index swap and the
 * companion's. Returns true when it re-keyed the file.
 */
export function rekeyCompanion(file: string, currentKey: Buffer, earlierKeys: Buffer[]): boolean {
  for (const k of earlierKeys) {
    if (k.equals(currentKey)) continue;
    let db;
    try {
      db = openDatabase(file, { key: k, readonly: true });
    } catch {
      continue;
    }
    closeDatabase(db);
    swapInCopy(file, prepareRekeyedCopy(file, k, currentKey));
    return true;
  }
  return false;
}

export function rotateDataKey(file: string, store: SecretStore, onStep: (s: RotationStep) => void = () => {}, companions: string[] = []): RotationResult {
  const t0 = performance.now();
  const { db, key: oldKey } = openKeyedDatabase(file, store);
  if (!oldKey) throw owletError('OWL_ERR_DB_KEY', { reason: `database ${file} is not encrypted; open it once with Owlet to encrypt it` });
  const tmp = rekeyPath(file);
  const newKey = newDataKey();
  let documents: number;
  try {
    // Nobody else may write while the copy is made: an exclusive lock for the whole copy.
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN IMMEDIATE');
    db.exec('COMMIT');
    store.set('data-key-pending', newKey);
    onStep('pending-stored');
    db.pragma('wal_checkpoint(TRUNCATE)');
    documents = (db.prepare('SELECT count(*) AS n FROM documents').get() as { n: number }).n;
    for (const f of [tmp, ...sideFiles(tmp)]) fs.rmSync(f, { force: true });
    db.exec(`VACUUM INTO '${tmp.replace(/'/g, "''")}'`);
    fs.chmodSync(tmp, 0o600);
    onStep('copied');
  } finally {
    closeDatabase(db);
  }
  rekeyCopy(tmp, oldKey, newKey);
  onStep('rekeyed');
  const check = openDatabase(tmp, { key: newKey });
  try {
    if (check.pragma('quick_check', { simple: true }) !== 'ok') throw owletError('OWL_ERR_DB_CORRUPT', { reason: 'the re-encrypted copy failed its check; the database is unchanged' });
    const n = (check.prepare('SELECT count(*) AS n FROM documents').get() as { n: number }).n;
    if (n !== documents) throw owletError('OWL_ERR_DB_CORRUPT', { reason: `the re-encrypted copy holds ${n} documents instead of ${documents}; the database is unchanged` });
  } finally {
    closeDatabase(check);
  }
  // Files encrypted with the same key (metrics.db) are re-keyed in the same procedure, so their
  // history survives; a companion that fails its copy stays as it is and the rotation goes on
  // (it is re-keyed from the retired key at its next open: rekeyCompanion).
  const companionCopies: [string, string][] = [];
  for (const c of companions) {
    if (!fs.existsSync(c)) continue;
    try {
      companionCopies.push([c, prepareRekeyedCopy(c, oldKey, newKey)]);
    } catch {
      for (const f of [rekeyPath(c), ...sideFiles(rekeyPath(c))]) fs.rmSync(f, { force: true });
    }
  }
  onStep('verified');
  // A WAL left beside the old file belongs to it, not to the copy: it must not meet the new file.
  swapInCopy(file, tmp);
  for (const [c, copy] of companionCopies) swapInCopy(c, copy);
  onStep('swapped');
  promotePending(store, newKey);
  onStep('promoted');
  return { documents, bytes: fs.statSync(file).size, ms: performance.now() - t0 };
}

/** Re-encrypts a private copy (no WAL: rekey needs a rollback journal) from `oldKey` to `newKey`. */
function rekeyCopy(file: string, oldKey: Buffer, newKey: Buffer): void {
  // The copy has its source's keying: raw, or legacy for a file not yet converted (a companion).
  let last: unknown;
  for (const keying of KEYINGS) {
    const copy = new Database(file);
    try {
      applyKey(copy, oldKey, keying);
      copy.prepare('SELECT count(*) FROM sqlite_master').get();
    } catch (e) {
      copy.close();
      last = e;
      if ((e as { code?: unknown }).code === 'SQLITE_NOTADB') continue;
      throw e;
    }
    try {
      copy.pragma('journal_mode = DELETE');
      rekey(copy, newKey);
    } finally {
      copy.close();
    }
    return;
  }
  throw keyError(last, file, true) ?? last;
}
