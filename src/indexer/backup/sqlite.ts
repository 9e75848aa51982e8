import Database from 'better-sqlite3-multiple-ciphers';
import { OwletError, owletError } from '../../shared/errors.js';
import { applyKey, fileHeaderIsPlain, KEYINGS, type Keying } from '../security/cipher.js';
import { plaintextReadFailure } from '../store/sqlite-errors.js';
import { keyId } from './keys.js';

export type RawDb = Database.Database;

/**
 * Backup copies and damaged files are opened here, not through store/db.ts: no WAL switch, no
 * migration, nothing written unless asked. Encrypted files need the key that wrote them; a plain
 * file (from before encryption) opens without one.
 */
export function openRaw(file: string, opts: { key?: Buffer | null; readonly?: boolean; create?: boolean; untrusted?: boolean } = {}): RawDb {
  if (!opts.key) return openRawWith(file, opts, null);
  // Backups and files from before the raw keying were keyed with PBKDF2 (legacy): tried second.
  let last: unknown;
  for (const keying of KEYINGS) {
    try {
      return openRawWith(file, opts, keying);
    } catch (e) {
      last = e;
      if ((e as { code?: string }).code !== 'SQLITE_NOTADB') throw e;
    }
  }
  throw last;
}

function openRawWith(file: string, opts: { key?: Buffer | null; readonly?: boolean; create?: boolean; untrusted?: boolean }, keying: Keying | null): RawDb {
  const db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: !opts.create });
  try {
    if (opts.key && keying) applyKey(db, opts.key, keying);
    // A file from outside (a backup): its schema may not run functions from views or triggers.
    if (opts.untrusted) db.pragma('trusted_schema = OFF');
    db.pragma('busy_timeout = 10000');
    // The first read: a wrong key or a damaged header fails here.
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/** Orders candidate keys so the one whose id matches comes first (the others are still tried). */
export function orderKeys(keys: readonly Buffer[], wanted: string | null): Buffer[] {
  const list = [...keys];
  if (!wanted) return list;
  return [...list.filter((k) => keyId(k) === wanted), ...list.filter((k) => keyId(k) !== wanted)];
}

/**
 * Opens an existing database with whichever candidate key works (plain files need none). Returns
 * the key used. A file no key opens is OWL_ERR_DB_KEY: restoring needs the key that wrote it.
 */
export function openWithKeys(file: string, keys: readonly Buffer[], opts: { readonly?: boolean; wantedKeyId?: string | null; untrusted?: boolean } = {}): { db: RawDb; key: Buffer | null } {
  if (fileHeaderIsPlain(file) === true) {
    try {
      return { db: openRaw(file, { readonly: opts.readonly, untrusted: opts.untrusted }), key: null };
    } catch (e) {
      throw plaintextReadFailure(file, e);
    }
  }
  if (keys.length === 0) return { db: openRaw(file, { readonly: opts.readonly, untrusted: opts.untrusted }), key: null };
  let last: unknown;
  for (const key of orderKeys(keys, opts.wantedKeyId ?? null)) {
    try {
      return { db: openRaw(file, { key, readonly: opts.readonly, untrusted: opts.untrusted }), key };
    } catch (e) {
      last = e;
      if ((e as { code?: string }).code !== 'SQLITE_NOTADB') throw e;
    }
  }
  throw owletError('OWL_ERR_DB_KEY', { reason: `no key this installation has opens ${file}; it was written with another key` }, { detail: { sqlite: 'SQLITE_NOTADB' }, cause: last });
}

export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/**
 * Searchable documents (status 'indexed'): the one meaning of "N documents" (status, the dashboard,
 * `owlet backup list`); skipped and failed files are rows too, but not documents a backup holds.
 */
export function documentCount(db: RawDb): number {
  const has = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'documents'").get() as { n: number };
  return has.n === 0 ? 0 : (db.prepare("SELECT count(*) AS n FROM documents WHERE status = 'indexed'").get() as { n: number }).n;
}

export function userVersion(db: RawDb): number {
  return db.pragma('user_version', { simple: true }) as number;
}
