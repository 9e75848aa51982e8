import fs from 'node:fs';
import Database from 'better-sqlite3-multiple-ciphers';
import { OwletError, owletError, errnoCode, isOwletError } from '../../shared/errors.js';
import { applyKey, assertEncrypted, keyError, KEYINGS, type Keying } from '../security/cipher.js';
import { createPrivateFile, FILE_MODE, tighten } from '../security/files.js';
import { sqliteFailureOf } from './sqlite-errors.js';

export type Db = Database.Database;

/**
 * WAL pages a writer lets pile up before the commit that crosses the mark checkpoints them:
 * SQLite's default. 10,000 (40 MB) saved ~8% of the indexer's main-process CPU in a bulk pass, but
 * on a nearly full disk the WAL then grew into the space just freed and nothing checkpointed it:
 * indexing never resumed (test/indexer/resilience/disk-full.test.ts, fresh-clone CI).
 */
export const WAL_AUTOCHECKPOINT_PAGES = 1_000;
/** Size a writer's WAL is cut back to after a checkpoint empties it. */
export const WAL_SIZE_LIMIT_BYTES = 4 * 1024 * 1024;

export interface OpenOptions {
  readonly?: boolean;
  /** Milliseconds a statement waits for a lock before SQLITE_BUSY (transient locks never fail a search). */
  busyTimeoutMs?: number;
  /** 256-bit database key (encryption at rest); applied before any other statement. */
  key?: Buffer;
}

/** Maps SQLite failures onto coded errors a person can act on (the kinds come from sqlite-errors.ts). */
export function classifySqliteError(e: unknown, file: string): OwletError {
  const code = errnoCode(e) ?? '';
  const msg = e instanceof Error ? e.message : String(e);
  const kind = sqliteFailureOf(e);
  if (kind === 'corrupt') return owletError('OWL_ERR_DB_CORRUPT', { reason: `database ${file} is damaged (${msg}); run "owlet doctor --fix"` }, { detail: { sqlite: code }, cause: e });
  if (kind === 'full') return owletError('OWL_ERR_DB_FULL', { file }, { detail: { sqlite: code }, cause: e });
  if (kind === 'busy') return owletError('OWL_ERR_DB_BUSY', { reason: `database ${file} is busy; try again` }, { detail: { sqlite: code }, cause: e });
  return owletError('OWL_ERR_DB_OPEN', { file, reason: msg }, { detail: { sqlite: code }, cause: e });
}

/** Connections that opened only with the legacy (PBKDF2) keying: a writer converts their file. */
const legacyKeyed = new WeakSet<Db>();

/** true when `db` is an encrypted file still keyed the old way (hexkey, PBKDF2). */
export function usesLegacyKeying(db: Db): boolean {
  return legacyKeyed.has(db);
}

/**
 * Opens a database file with the pragmas every Owlet database uses (WAL, busy timeout, FKs).
 * With a key, the raw keying is tried first and the legacy one only if the file is encrypted and
 * the raw key cannot read it; a key neither opens is OWL_ERR_DB_KEY and the file is untouched.
 */
export function openDatabase(file: string, opts: OpenOptions = {}): Db {
  if (opts.readonly && !fs.existsSync(file)) {
    throw owletError('OWL_ERR_DB_MISSING', { file });
  }
  if (!opts.key) return openWith(file, opts, null);
  let keyFailure: OwletError | null = null;
  for (const keying of KEYINGS) {
    try {
      const db = openWith(file, opts, keying);
      if (keying === 'legacy') legacyKeyed.add(db);
      return db;
    } catch (e) {
      // Only a key failure earns the second keying; damage, a full disk or a busy file do not.
      if (!isOwletError(e) || e.code !== 'OWL_ERR_DB_KEY' || e.detail?.sqlite !== 'SQLITE_NOTADB') throw e;
      keyFailure = e;
    }
  }
  throw keyFailure!;
}

function openWith(file: string, opts: OpenOptions, keying: Keying | null): Db {
  let db: Db;
  try {
    // Created 0600 before SQLite sees it: its WAL and SHM files inherit the main file's mode.
    if (!opts.readonly && file !== ':memory:') createPrivateFile(file);
    db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  } catch (e) {
    throw classifySqliteError(e, file);
  }
  try {
    if (opts.key && keying) applyKey(db, opts.key, keying);
    // A new file gives pages it no longer uses back to the disk (closeDatabase): FTS5 merges
    // during a bulk pass leave ~1 MB free on the small bench corpus. Settable only before the
    // first table exists; files made before keep their mode (a VACUUM would rewrite the index).
    if (!opts.readonly && (db.pragma('page_count', { simple: true }) as number) === 0) db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5000))}`);
    if (!opts.readonly) {
      db.pragma('journal_mode = WAL');
      // NORMAL in WAL mode is still crash-safe for the database; only the last commits may roll back.
      db.pragma('synchronous = NORMAL');
      // Set explicitly: the WAL's bound on disk is part of surviving a full disk (see the constant).
      db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
      // A checkpointed WAL is reused from its start but keeps its size: cut it back, so an idle
      // index does not keep 40 MB of spent log on the disk.
      db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
    }
    db.pragma('foreign_keys = ON');
    db.pragma('temp_store = MEMORY');
    db.pragma('cache_size = -8000'); // 8 MB: the OS page cache holds the rest
    // The first real read: a damaged or foreign file fails here, not later mid-request.
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    // A build without encryption ignores the key silently: the header tells.
    if (opts.key) assertEncrypted(file);
    if (!opts.readonly && file !== ':memory:') for (const f of [file, `${file}-wal`, `${file}-shm`]) tighten(f, FILE_MODE);
  } catch (e) {
    db.close();
    throw keyError(e, file, Boolean(opts.key)) ?? (isOwletError(e) ? e : classifySqliteError(e, file));
  }
  return db;
}

/** Pages of free space given back per close (16 MB): shutdown stays quick after a large removal. */
export const VACUUM_PAGES_ON_CLOSE = 4096;

/** Gives free pages back (files with incremental auto-vacuum), checkpoints the WAL into the main file (on clean shutdown), then closes. */
export function closeDatabase(db: Db): void {
  if (!db.open) return;
  try {
    if (!db.readonly) {
      try {
        db.pragma(`incremental_vacuum(${VACUUM_PAGES_ON_CLOSE})`);
      } catch {
        // Space only: a busy or failing vacuum never stops a clean close.
      }
      db.pragma('wal_checkpoint(TRUNCATE)');
    }
  } finally {
    db.close();
  }
}
