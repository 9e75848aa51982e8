import fs from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { OwletError, owletError } from '../../shared/errors.js';
import { FILE_MODE, NOFOLLOW, writePrivateFile } from './files.js';
import { assertPrivateFolder, readTrustedFile } from './data-dir-guard.js';

/** The install's API secret: `<dataDir>/api-token`, 0600, 32 random bytes as base64url. */
export const API_TOKEN_FILE = 'api-token';
const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

export function apiTokenPath(dataDir: string): string {
  return path.join(dataDir, API_TOKEN_FILE);
}

export function newSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * The token file as written by this user's Owlet: never through a symlink, owned by us, readable
 * by nobody else (a token another user planted or could read is refused, not trusted).
 */
function readValid(file: string): string | null {
  const raw = readTrustedFile(file, { secret: true });
  if (raw === null) return null;
  const t = raw.toString('utf8').trim();
  return TOKEN_RE.test(t) ? t : null;
}

/**
 * Returns the token, creating it at first run. Creation uses O_EXCL so two services starting at
 * once agree on one token; a file left empty by a crash mid-write is replaced.
 */
export function ensureApiToken(dataDir: string): string {
  const file = apiTokenPath(dataDir);
  replaceIfExposed(file);
  const existing = readValid(file);
  if (existing) return existing;
  const token = newSecret();
  try {
    const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | NOFOLLOW, FILE_MODE);
    try {
      fs.writeSync(fd, token + '\n');
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    return token;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  // Someone else created it (or a crash left it unreadable): use theirs, or replace a broken one.
  const theirs = readValid(file);
  if (theirs) return theirs;
  writePrivateFile(file, token + '\n');
  return token;
}

/**
 * A token file of ours that others could read (loosened mode) may have been read: it is replaced
 * by a new one rather than tightened and trusted. Foreign or symlinked files are left for
 * readValid to refuse.
 */
function replaceIfExposed(file: string): void {
  if (process.platform === 'win32') return;
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch {
    return;
  }
  const uid = typeof process.geteuid === 'function' ? process.geteuid() : st.uid;
  if (st.isFile() && st.uid === uid && (st.mode & 0o077) !== 0) writePrivateFile(file, newSecret() + '\n');
}

/** The token for a client (CLI, tests) talking to a running service. */
export function readApiToken(dataDir: string): string {
  assertPrivateFolder(dataDir);
  const t = readValid(apiTokenPath(dataDir));
  if (!t) throw owletError('OWL_ERR_AUTH_REQUIRED', { reason: `no API token in ${apiTokenPath(dataDir)}; it is created when "owlet serve" or "owlet run" first starts` });
  return t;
}

/** Replaces the token; a running service picks the new one up on its next request. */
export function rotateApiToken(dataDir: string): string {
  const token = newSecret();
  writePrivateFile(apiTokenPath(dataDir), token + '\n');
  return token;
}

/** Constant-time comparison (hashing first makes the lengths equal). */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * The token as the running service sees it: re-read when the file changes, so `owlet key
 * rotate-token` takes effect without a restart. One stat per request.
 */
export class TokenSource {
  private token: string;
  private stamp: string;
  constructor(private readonly dataDir: string) {
    this.token = ensureApiToken(dataDir);
    this.stamp = this.stat();
  }
  private stat(): string {
    try {
      const st = fs.statSync(apiTokenPath(this.dataDir));
      return `${st.ino}:${st.mtimeMs}:${st.size}`;
    } catch {
      return 'missing';
    }
  }
  current(): string {
    const s = this.stat();
    if (s !== this.stamp) {
      let t: string | null = null;
      try {
        t = readValid(apiTokenPath(this.dataDir));
      } catch {
        // A planted (foreign, symlinked or exposed) file is refused like a garbled one.
      }
      // A deleted or garbled file does not open the door: keep the last good token.
      if (t) this.token = t;
      this.stamp = s;
    }
    return this.token;
  }
}
