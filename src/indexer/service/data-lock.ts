import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { errnoCode, owletError, OwletError } from '../../shared/errors.js';
import { createPrivateFile, writePrivateFile } from '../security/files.js';
import { processAlive, readServiceInfo } from './service-file.js';

/**
 * One writer per data folder. The lock is an OS file lock, held by SQLite on a small database of
 * its own (`service.lock`) opened with `locking_mode=EXCLUSIVE` and written once: SQLite then holds
 * its exclusive lock (fcntl on Unix, LockFileEx on Windows) until the connection closes, and the
 * OS drops it when the process dies however it dies, so a crash never leaves a stale lock.
 * No extra package: the native SQLite module is already shipped (and rebuilt for Electron).
 *
 * Who holds it is written next to it (`service.lock.json`), since nobody else can read the locked
 * database; that note is only used to word the refusal, never to decide.
 */
export const LOCK_FILE = 'service.lock';
export const LOCK_OWNER_FILE = 'service.lock.json';

export interface LockOwner {
  pid: number;
  /** What holds it: 'service', 'key rotate', 'backup restore', 'doctor --fix'… */
  purpose: string;
  since: string;
}

export interface DataFolderLock {
  readonly dataDir: string;
  readonly owner: LockOwner;
  /** Releases the lock (idempotent). The owner note is removed only if it is still ours. */
  release(): void;
}

function isBusy(e: unknown): boolean {
  const code = errnoCode(e) ?? '';
  return code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED');
}

function readOwner(dataDir: string): LockOwner | null {
  try {
    const v = JSON.parse(fs.readFileSync(path.join(dataDir, LOCK_OWNER_FILE), 'utf8')) as LockOwner;
    return typeof v.pid === 'number' && typeof v.purpose === 'string' ? v : null;
  } catch {
    return null;
  }
}

/** Words the holder of the lock for a message: the running service (pid, url) when it is one. */
export function describeHolder(dataDir: string): string {
  const info = readServiceInfo(dataDir);
  const owner = readOwner(dataDir);
  if (info && processAlive(info.pid) && (!owner || owner.pid === info.pid || owner.purpose === 'service'))
    return `the Owlet service (pid ${info.pid}, ${info.url}${info.supervisorPid ? `, supervised by pid ${info.supervisorPid}` : ''})`;
  if (owner && processAlive(owner.pid))
    return owner.purpose === 'service' ? `an Owlet service that is starting (pid ${owner.pid})` : `"owlet ${owner.purpose}" (pid ${owner.pid})`;
  return 'another Owlet process';
}

/** Tries once; null when another process holds the lock. */
function tryLock(dataDir: string, purpose: string, note = true): DataFolderLock | null {
  const file = path.join(dataDir, LOCK_FILE);
  createPrivateFile(file);
  let db: Database.Database;
  try {
    db = new Database(file);
  } catch (e) {
    throw owletError('OWL_ERR_DATADIR_UNUSABLE', { dir: dataDir, reason: `cannot open its lock file ${file}: ${(e as Error).message}` }, { cause: e });
  }
  try {
    db.pragma('busy_timeout = 0');
    db.pragma('locking_mode = EXCLUSIVE');
    // A rollback journal (not WAL): WAL in exclusive mode would still let readers in through the shm.
    db.pragma('journal_mode = DELETE');
    db.exec('CREATE TABLE IF NOT EXISTS holder (k TEXT PRIMARY KEY, v TEXT NOT NULL)');
    // The first write takes the exclusive lock; in EXCLUSIVE mode SQLite keeps it after commit.
    db.prepare('INSERT OR REPLACE INTO holder (k, v) VALUES (?, ?)').run('pid', String(process.pid));
  } catch (e) {
    db.close();
    if (isBusy(e)) return null;
    throw owletError('OWL_ERR_DATADIR_UNUSABLE', { dir: dataDir, reason: `cannot lock it (${file}): ${(e as Error).message}` }, { cause: e });
  }
  const owner: LockOwner = { pid: process.pid, purpose, since: new Date().toISOString() };
  try {
    if (note) writePrivateFile(path.join(dataDir, LOCK_OWNER_FILE), JSON.stringify(owner) + '\n');
  } catch {
    /* only used to word messages; a full disk must not stop the lock from working */
  }
  let released = false;
  return {
    dataDir,
    owner,
    release() {
      if (released) return;
      released = true;
      const note = readOwner(dataDir);
      if (note && note.pid === owner.pid && note.since === owner.since) fs.rmSync(path.join(dataDir, LOCK_OWNER_FILE), { force: true });
      db.close();
    },
  };
}

export interface AcquireOptions {
  /** What takes the lock, for the other side's message. */
  purpose: string;
  /**
   * How long to wait for a holder to go away (a supervised service restarting: the old child is
   * still exiting). Default 0: refuse at once.
   */
  waitMs?: number;
  /** What the refused side should do instead, appended to the message. */
  remedy?: string;
}

/**
 * Takes the data folder's lock or throws OWL_ERR_SERVICE_RUNNING naming the holder (pid, url).
 * Synchronous polling (every 50 ms) only while `waitMs` lasts: nothing else runs that early.
 */
export async function acquireDataLock(dataDir: string, opts: AcquireOptions): Promise<DataFolderLock> {
  const deadline = Date.now() + (opts.waitMs ?? 0);
  for (;;) {
    const lock = tryLock(dataDir, opts.purpose);
    if (lock) return lock;
    if (Date.now() >= deadline) throw refusal(dataDir, opts.remedy);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** True when some process holds the data folder's lock (a probe: takes and drops it at once). */
export function dataFolderLocked(dataDir: string): boolean {
  if (!fs.existsSync(path.join(dataDir, LOCK_FILE))) return false;
  const lock = tryLock(dataDir, 'probe', false);
  if (!lock) return true;
  lock.release();
  return false;
}

/** Throws OWL_ERR_SERVICE_RUNNING (naming the holder) when some process holds the lock. */
export function assertDataFolderFree(dataDir: string, remedy: string): void {
  if (dataFolderLocked(dataDir)) throw refusal(dataDir, remedy);
}

function refusal(dataDir: string, remedy: string | undefined): OwletError {
  return owletError('OWL_ERR_SERVICE_RUNNING', { holder: describeHolder(dataDir), dataDir, then: remedy ? `; ${remedy}` : '' }, { detail: { dataDir } });
}

/**
 * Runs `fn` holding the data folder's lock; refuses while a service (or another writer) holds it,
 * with the message a user can act on: stop the service first, or run this through it.
 */
export async function withDataLock<T>(dataDir: string, command: string, fn: () => T | Promise<T>, through?: string): Promise<T> {
  const lock = await acquireDataLock(dataDir, {
    purpose: command,
    remedy: `stop the service first, or run this through it${through ? ` (${through})` : ''}, then run "owlet ${command}" again`,
  });
  try {
    return await fn();
  } finally {
    lock.release();
  }
}
