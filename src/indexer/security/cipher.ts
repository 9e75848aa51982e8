import fs from 'node:fs';
import type Database from 'better-sqlite3-multiple-ciphers';
import { OwletError, owletError } from '../../shared/errors.js';

/**
 * Encryption at rest with SQLite3 Multiple Ciphers (ChaCha20-Poly1305, its default). The key is
 * a random 256-bit data key, applied before any other statement as a raw key (sqlite3mc's
 * `x'<64 hex>'` form: used directly as the cipher key, no key derivation). Files written before
 * that were keyed with `PRAGMA hexkey`, which stretches the same 32 bytes with PBKDF2-SHA256
 * (64,007 rounds, ~50 ms per open) for no gain: stretching protects guessable passphrases, and a
 * random 256-bit key is not guessable. Such files still open ('legacy' keying) and writers convert
 * them (store/data-key.ts convertLegacyKeying). Traps handled here: a wrong key is only reported as SQLITE_NOTADB on the first statement, and a build without
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

/** 'raw': the current format (no KDF); 'legacy': `PRAGMA hexkey` (PBKDF2), files from before. */
export type Keying = 'raw' | 'legacy';
/** The order in which an existing encrypted file is tried: the cheap, current form first. */
export const KEYINGS: readonly Keying[] = ['raw', 'legacy'];

function checkLength(key: Buffer): void {
  if (key.length !== DATA_KEY_BYTES) throw owletError('OWL_ERR_DB_KEY', { reason: `a database key must be ${DATA_KEY_BYTES} bytes, got ${key.length}` });
}

/**
 * sqlite3mc's raw-key literal, passed through sqlite3_key/_rekey (never as SQL text, so no SQL
 * log or error message can carry it); the caller wipes it after use.
 */
function rawKeyLiteral(key: Buffer): Buffer {
  return Buffer.from(`x'${key.toString('hex')}'`, 'latin1');
}

export function applyKey(db: Database.Database, key: Buffer, keying: Keying = 'raw'): void {
  checkLength(key);
  if (keying === 'legacy') {
    // Exactly how files were keyed before: the 32 bytes as a passphrase, stretched by PBKDF2.
    db.pragma(`hexkey='${key.toString('hex')}'`);
    return;
  }
  const literal = rawKeyLiteral(key);
  try {
    db.key(literal);
  } finally {
    literal.fill(0);
  }
}

/** Re-encrypts the open database under `key` in the raw form (needs rollback-journal mode). */
export function rekey(db: Database.Database, key: Buffer): void {
  checkLength(key);
  const literal = rawKeyLiteral(key);
  try {
    db.rekey(literal);
  } finally {
    literal.fill(0);
  }
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
