import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3-multiple-ciphers';
import { OwletError, owletError, isOwletError } from '../../shared/errors.js';
import { closeDatabase, openDatabase, usesLegacyKeying, type Db, type OpenOptions } from './db.js';
import { plaintextReadFailure } from './sqlite-errors.js';
import { applyKey, DATA_KEY_BYTES, fileHeaderIsPlain, rekey } from '../security/cipher.js';
import { fsyncDir } from '../security/files.js';
import type { SecretStore } from '../security/secret-store.js';

/**
 * Opening an index database with its data key, and the two ways a file changes key:
 * migrating a plaintext database from an earlier version, and (rekey.ts) rotating the key.
 *
 * Invariants: a key failure never leads to a new database over the old file; the plaintext
 * original of a migration is kept aside until the encrypted copy has been opened and counted.
 */

export function newDataKey(): Buffer {
  return randomBytes(DATA_KEY_BYTES);
}

/** Side files of a database: a swap must never pair a main file with another file's WAL. */
export const sideFiles = (file: string) => [`${file}-wal`, `${file}-shm`, `${file}-journal`];
export const migratingPath = (file: string) => `${file}.encrypting`;
export const plaintextAsidePath = (file: string) => `${file}.plaintext`;
export const rekeyPath = (file: string) => `${file}.rekey`;

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** Earlier keys, newest first: backups made before a rotation still need them. */
export function retiredKeys(store: SecretStore): Buffer[] {
  const raw = store.get('data-key-retired');
  if (!raw) return [];
  try {
    const list = JSON.parse(raw.toString('utf8')) as { key: string }[];
    return list.map((k) => Buffer.from(k.key, 'base64')).filter((k) => k.length === DATA_KEY_BYTES);
  } catch {
    return [];
  }
}

/** Every key that may open a file of this install (current, pending, retired): for restores. */
export function candidateKeys(store: SecretStore): Buffer[] {
  const out: Buffer[] = [];
  for (const k of [store.get('data-key'), store.get('data-key-pending'), ...retiredKeys(store)]) {
    if (k && !out.some((o) => o.equals(k))) out.push(k);
  }
  return out;
}

export function retireKey(store: SecretStore, key: Buffer, now: number = Date.now()): void {
  const raw = store.get('data-key-retired');
  let list: { key: string; retiredAt: string }[] = [];
  try {
    if (raw) list = JSON.parse(raw.toString('utf8')) as typeof list;
  } catch {
    list = [];
  }
  const b64 = key.toString('base64');
  if (!list.some((k) => k.key === b64)) list.unshift({ key: b64, retiredAt: new Date(now).toISOString() });
  store.set('data-key-retired', Buffer.from(JSON.stringify(list.slice(0, 16))));
}

/** Makes `pending` the current key (after a rotation swapped the file, or recovery found it). */
export function promotePending(store: SecretStore, pending: Buffer): void {
  const current = store.get('data-key');
  if (current && !current.equals(pending)) retireKey(store, current);
  store.set('data-key', pending);
  store.delete('data-key-pending');
}

function countDocuments(db: Db | Database.Database): number {
  const has = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'documents'").get() as { n: number };
  if (has.n === 0) return 0;
  return (db.prepare('SELECT count(*) AS n FROM documents').get() as { n: number }).n;
}

/** Puts back what an interrupted migration or rotation left behind, before anything opens the file. */
export function recoverInterruptedSwap(file: string): void {
  const aside = plaintextAsidePath(file);
  if (fs.existsSync(aside) && !fs.existsSync(file)) {
    // Crashed between the two renames of a migration: the plaintext original goes back.
    fs.renameSync(aside, file);
    fsyncDir(path.dirname(file));
  }
  for (const tmp of [migratingPath(file), rekeyPath(file)]) {
    for (const f of [tmp, ...sideFiles(tmp)]) fs.rmSync(f, { force: true });
  }
}

/**
 * Keys a VACUUM INTO copy (plain, or with the legacy keying) with the raw keying, in
 * rollback-journal mode where `rekey` works, then checks that it opens with the raw keying, passes
 * quick_check and holds every document of the original. Throws before anything is swapped.
 */
function keyCopyAndCheck(tmp: string, key: Buffer, from: 'plain' | 'legacy', documents: number, words: { copy: string; original: string; left: string }): void {
  fs.chmodSync(tmp, 0o600);
  const copy = new Database(tmp);
  try {
    if (from === 'legacy') applyKey(copy, key, 'legacy');
    copy.pragma('journal_mode = DELETE');
    rekey(copy, key);
  } finally {
    copy.close();
  }
  const check = openDatabase(tmp, { key });
  try {
    if (usesLegacyKeying(check)) throw owletError('OWL_ERR_DB_KEY', { reason: `${words.copy} still needs the old keying; ${words.left}` });
    if (check.pragma('quick_check', { simple: true }) !== 'ok') throw owletError('OWL_ERR_DB_CORRUPT', { reason: `${words.copy} failed its check; ${words.left}` });
    const n = countDocuments(check);
    if (n !== documents) throw owletError('OWL_ERR_DB_CORRUPT', { reason: `${words.copy} holds ${n} documents, ${words.original} ${documents}; ${words.left}` });
  } finally {
    closeDatabase(check);
  }
}

/**
 * Encrypts a plaintext database from an earlier version: a consistent plaintext copy (VACUUM
 * INTO), encrypted with `PRAGMA rekey` (the copy is in rollback-journal mode, where rekey works),
 * verified by opening it with the key and counting documents, then swapped in by rename. The
 * original stays beside it (`.plaintext`) until the caller has opened the new file; then it goes.
 */
export function migratePlaintext(file: string, key: Buffer): { documents: number } {
  const tmp = migratingPath(file);
  for (const f of [tmp, ...sideFiles(tmp)]) fs.rmSync(f, { force: true });
  let documents: number;
  try {
    const src = openDatabase(file);
    try {
      documents = countDocuments(src);
      src.exec(`VACUUM INTO ${sqlString(tmp)}`);
    } finally {
      closeDatabase(src);
    }
  } catch (e) {
    for (const f of [tmp, ...sideFiles(tmp)]) fs.rmSync(f, { force: true });
    throw plaintextReadFailure(file, e);
  }
  keyCopyAndCheck(tmp, key, 'plain', documents, { copy: `the encrypted copy of ${file}`, original: 'the original', left: 'the original is untouched' });
  const aside = plaintextAsidePath(file);
  fs.rmSync(aside, { force: true });
  fs.renameSync(file, aside);
  for (const f of sideFiles(file)) fs.rmSync(f, { force: true });
  fs.renameSync(tmp, file);
  fsyncDir(path.dirname(file));
  return { documents };
}

/**
 * Converts a file keyed the old way (hexkey: PBKDF2 on every open) to the raw keying, keeping the
 * same data key. Like a rotation, through a copy: VACUUM INTO (the copy keeps the legacy keying),
 * `rekey` to the raw form on the copy in rollback-journal mode, a check that the copy opens with
 * the raw keying and holds every row, then an atomic rename. Killed at any moment, the file is
 * either the untouched original or the complete copy (a leftover `.rekey` copy is removed by
 * recoverInterruptedSwap). The caller must hold the only connection to `file`, and has closed it.
 */
export function convertLegacyKeying(file: string, key: Buffer): { documents: number } {
  const tmp = rekeyPath(file);
  const clean = () => {
    for (const f of [tmp, ...sideFiles(tmp)]) fs.rmSync(f, { force: true });
  };
  clean();
  try {
    let documents: number;
    const src = openDatabase(file, { key });
    try {
      if (!usesLegacyKeying(src)) return { documents: countDocuments(src) };
      // Another connection reading the file keeps WAL frames the copy would miss and could keep
      // using the old file after the rename: give up before copying the whole file (a copy at
      // every start would fill a nearly full disk for nothing).
      const [cp] = src.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      if (cp && cp.busy !== 0) throw owletError('OWL_ERR_DB_BUSY', { reason: `${path.basename(file)} is in use by another process; the file keeps its old keying for now` });
      documents = countDocuments(src);
      src.exec(`VACUUM INTO ${sqlString(tmp)}`);
    } finally {
      closeDatabase(src);
    }
    keyCopyAndCheck(tmp, key, 'legacy', documents, { copy: `the converted copy of ${path.basename(file)}`, original: 'the file', left: 'the file is unchanged' });
    // The original's WAL was checkpointed and emptied: it must not meet the new file.
    for (const f of sideFiles(file)) {
      if (fs.existsSync(f) && fs.statSync(f).size > 0) throw owletError('OWL_ERR_DB_BUSY', { reason: `${path.basename(f)} is in use by another process; the file keeps its old keying for now` });
      fs.rmSync(f, { force: true });
    }
    fs.renameSync(tmp, file);
    fsyncDir(path.dirname(file));
    return { documents };
  } catch (e) {
    clean();
    throw e;
  }
}

/**
 * A writer's open of a legacy-keyed file: converted once, then reopened with the raw keying. The
 * conversion only saves time on later opens, so a failure (busy, disk full) keeps the working
 * legacy connection: the next writable open tries again.
 */
export function convertedOpen(file: string, db: Db, key: Buffer, opts: OpenOptions = {}): { db: Db; converted: boolean; deferred: boolean } {
  if (opts.readonly || !usesLegacyKeying(db)) return { db, converted: false, deferred: false };
  closeDatabase(db);
  let converted = false;
  try {
    convertLegacyKeying(file, key);
    converted = true;
  } catch {
    // Reopened as it was (the legacy keying still works); the next writable open retries, and the
    // caller says so (event 'conversion-deferred').
  }
  return { db: openDatabase(file, { ...opts, key }), converted, deferred: !converted };
}

export interface KeyedOpen {
  db: Db;
  /** null only for a legacy plaintext file opened read-only (a writer migrates it). */
  key: Buffer | null;
  /** What happened on the way: for the log and the audit trail. */
  events: ('created-key' | 'migrated' | 'promoted-pending' | 'converted-keying' | 'conversion-deferred')[];
}

function tryOpen(file: string, key: Buffer, opts: OpenOptions): Db | OwletError {
  try {
    return openDatabase(file, { ...opts, key });
  } catch (e) {
    if (isOwletError(e) && e.code === 'OWL_ERR_DB_KEY') return e;
    throw e;
  }
}

/**
 * Opens `file` with this install's data key: creates the key for a new database, migrates a
 * plaintext one (writers only), and after an interrupted rotation tries the pending key and
 * promotes it. A file that no key opens is an OWL_ERR_DB_KEY error and is left untouched.
 */
/** The data key from the store, created (and recorded as an event) at first run. */
function dataKeyFor(store: SecretStore, events: KeyedOpen['events']): Buffer {
  let key = store.get('data-key');
  if (!key) {
    key = newDataKey();
    store.set('data-key', key);
    events.push('created-key');
  }
  return key;
}

export function openKeyedDatabase(file: string, store: SecretStore, opts: Omit<OpenOptions, 'key'> = {}): KeyedOpen {
  const events: KeyedOpen['events'] = [];
  if (!opts.readonly) recoverInterruptedSwap(file);
  const plain = fileHeaderIsPlain(file);
  if (plain === true) {
    if (opts.readonly) return { db: openDatabase(file, opts), key: null, events };
    const key = dataKeyFor(store, events);
    migratePlaintext(file, key);
    events.push('migrated');
  }
  if (plain === null) {
    // Missing or empty: read-only callers get openDatabase's "no index" error; writers create it.
    if (opts.readonly) return { db: openDatabase(file, opts), key: null, events };
    const key = dataKeyFor(store, events);
    const db = openDatabase(file, { ...opts, key });
    return { db, key, events };
  }
  const current = store.get('data-key');
  const pending = store.get('data-key-pending');
  if (!current && !pending) {
    throw owletError('OWL_ERR_DB_KEY', { reason: `wrong or missing key: database ${file} is encrypted but ${store.where} holds no key for it (the file is untouched); restore the key, or move the file away to start a new index` });
  }
  let lastError: OwletError | null = null;
  for (const [which, key] of [['current', current], ['pending', pending]] as const) {
    if (!key) continue;
    const r = tryOpen(file, key, opts);
    if (r instanceof OwletError) {
      lastError = r;
      continue;
    }
    if (which === 'pending') {
      promotePending(store, key);
      events.push('promoted-pending');
    }
    const { db, converted, deferred } = convertedOpen(file, r, key, opts);
    if (converted) events.push('converted-keying');
    if (deferred) events.push('conversion-deferred');
    // The plaintext original of a migration goes once the encrypted file has opened.
    const aside = plaintextAsidePath(file);
    if (!opts.readonly && fs.existsSync(aside)) {
      for (const f of [aside, ...sideFiles(aside)]) fs.rmSync(f, { force: true });
    }
    return { db, key, events };
  }
  throw lastError ?? owletError('OWL_ERR_DB_KEY', { reason: `wrong or missing key for database ${file}` });
}
