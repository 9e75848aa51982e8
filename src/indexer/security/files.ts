import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/** Files holding secrets or user data: readable and writable by the owner only. */
export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;

/** Creates a directory (and parents) with owner-only access; tightens an existing one we own. */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  tighten(dir, DIR_MODE);
}

/** chmod that ignores platforms and file systems without POSIX modes. */
export function tighten(file: string, mode: number): void {
  if (process.platform === 'win32') return;
  try {
    const st = fs.statSync(file);
    if ((st.mode & 0o777) !== mode) fs.chmodSync(file, mode);
  } catch {
    /* missing or foreign-owned: the caller's next open reports the real problem */
  }
}

/**
 * Writes a file atomically (secrets, manifests, state): a 0600 temp file beside the target, fsync'd, then renamed over it.
 * A crash leaves either the old content or the new one, never half of either.
 */
export function writePrivateFile(file: string, content: string | Buffer): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, FILE_MODE);
  try {
    try {
      fs.writeSync(fd, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    // A full disk fails the write as well as the rename: no temp file is left behind either way.
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(path.dirname(file));
}

/** Makes a rename durable (POSIX); a no-op where directories cannot be opened. */
export function fsyncDir(dir: string): void {
  if (process.platform === 'win32') return;
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    /* best effort */
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Creates an empty owner-only file if none exists (never truncates an existing one). */
export function createPrivateFile(file: string): void {
  try {
    fs.closeSync(fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | NOFOLLOW, FILE_MODE));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

/** O_NOFOLLOW where the platform has it: a planted symlink is an error (ELOOP), never followed. */
export const NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;

/** Reads a file, or null when it does not exist; never through a symlink. */
export function readIfExists(file: string): Buffer | null {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | NOFOLLOW);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Opens for appending (creating 0600), never through a symlink. */
export function openAppendNoFollow(file: string): number {
  return fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | NOFOLLOW, FILE_MODE);
}
