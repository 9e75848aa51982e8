import fs from 'node:fs';
import type Database from 'better-sqlite3-multiple-ciphers';
import { OwletError, owletError } from '../../shared/errors.js';

/**
 * Encryption at rest with SQLite3 Multiple Ciphers (ChaCha20-Poly1305, its default). The key is
 * a random 256-bit data key, applied as `PRAGMA hexkey` before any other statement. Traps handled
 * here: a wrong key is only reported as SQLITE_NOTADB on the first statement, and a build without
 * encryption would silently ignore the key, so the file header is checked after opening.
 */
export const PLAIN_HEADER = Buffer.from('SQLite format 3\0', 'latin1');
export const DATA_KEY_BYTES = 32;

/** true: a plain SQLite file; false: something else (encrypted); null: missing or too short. */
export function fileHeaderIsPlain(file: string): boolean | null {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const buf = Buffer.alloc(16);
    const n = fs.readSync(fd, buf, 0, 16, 0);
    if (n < 16) return null;
    return buf.equals(PLAIN_HEADER);
  } finally {
    fs.closeSync(fd);
  }
}

export function applyKey(db: Database.Database, key: Buffer): void {
  if (key.length !== DATA_KEY_BYTES) throw owletError('OWL_ERR_DB_KEY', { reason: `a database key must be ${DATA_KEY_BYTES} bytes, got ${key.length}` });
  // hexkey: no quoting problems with binary keys, and the key never appears as text in SQL logs.
  db.pragma(`hexkey='${key.toString('hex')}'`);
}

export function rekey(db: Database.Database, key: Buffer): void {
  if (key.length !== DATA_KEY_BYTES) throw owletError('OWL_ERR_DB_KEY', { reason: `a database key must be ${DATA_KEY_BYTES} bytes, got ${key.length}` });
  db.pragma(`hexrekey='${key.toString('hex')}'`);
}

/** After opening with a key: the file on disk must not be plain SQLite. */
export function assertEncrypted(file: string): void {
  if (fileHeaderIsPlain(file) === true) {
    throw owletError('OWL_ERR_DB_KEY', { reason: `database ${file} was opened with a key but is not encrypted on disk: this SQLite build ignores keys; reinstall Owlet (it needs better-sqlite3-multiple-ciphers)` });
  }
}

/** SQLITE_NOTADB on a file that is not plain SQLite means the key is wrong or missing. */
export function keyError(e: unknown, file: string, keyed: boolean): OwletError | null {
  const code = (e as { code?: unknown })?.code;
  // Without a key an unreadable file may just as well be garbage: the caller reports it as damaged.
  if (code !== 'SQLITE_NOTADB' || !keyed) return null;
  if (fileHeaderIsPlain(file) === true) return null;
  return owletError('OWL_ERR_DB_KEY', { reason: `wrong or missing key: database ${file} is encrypted with a key Owlet does not have (the file is untouched); restore the key to the keychain or key file it came from` }, { detail: { sqlite: 'SQLITE_NOTADB' }, cause: e });
}
