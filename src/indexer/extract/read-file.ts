import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { errnoCode } from '../../shared/errors.js';
import type { FailureReason } from './types.js';

export type ReadOutcome =
  | { ok: true; data: Uint8Array; sha256: string; size: number }
  | { ok: false; reason: FailureReason; message: string; errno?: string };

// O_NONBLOCK: a FIFO swapped in after the crawler's lstat must not block open(); fstat then
// refuses it. (Undefined on Windows, where FIFOs do not appear in the file system.)
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

/**
 * Opens, checks and reads one file for extraction. Decisions are made on the open handle (fstat),
 * not the path, so a file replaced between crawl and read is judged by what was actually opened.
 *
 * Synchronous inside: a worker runs one job at a time, and the promise API's thread-pool round
 * trips and FileHandle objects cost three to seven times the CPU of these calls (about 2 s of
 * worker CPU on the full benchmark corpus). A read that hangs (a dead network share) blocks this
 * worker either way; the pool's job timeout ends it. Still returns a promise: callers await it.
 */
export async function readForExtraction(path: string, maxBytes: number): Promise<ReadOutcome> {
  let fd: number;
  try {
    fd = fs.openSync(path, OPEN_FLAGS);
  } catch (e) {
    return ioFailure(e);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) {
      const kind = st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a named pipe (FIFO)' : st.isSocket() ? 'a socket' : 'a device';
      return { ok: false, reason: 'unsupported', message: `not a regular file (${kind}); skipped` };
    }
    if (st.size > maxBytes) {
      return { ok: false, reason: 'too-large', message: `the file is ${mb(st.size)} MB, over the ${mb(maxBytes)} MB limit; not read` };
    }
    // Read what fstat promised, no more: a file growing meanwhile is read as of the stat.
    const buf = Buffer.allocUnsafe(st.size);
    let off = 0;
    while (off < buf.length) {
      const bytesRead = fs.readSync(fd, buf, off, buf.length - off, off);
      if (bytesRead === 0) break; // shrank while reading
      off += bytesRead;
    }
    const data = buf.subarray(0, off);
    return { ok: true, data, size: off, sha256: createHash('sha256').update(data).digest('hex') };
  } catch (e) {
    return ioFailure(e);
  } finally {
    try {
      fs.closeSync(fd);
    } catch {
      // closing a descriptor we opened cannot fail in a way that matters to the read
    }
  }
}

const ERRNO_MESSAGES: Record<string, string> = {
  ENOENT: 'the file no longer exists',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EBUSY: 'the file is busy or locked',
  EISDIR: 'the path is a directory',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'the path is too long',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EIO: 'an I/O error occurred while reading the file',
  ENXIO: 'no such device (a socket or an unconnected device)',
  ETIMEDOUT: 'the file system timed out',
  ESTALE: 'stale file handle (network file system)',
};

function ioFailure(e: unknown): ReadOutcome {
  const code = errnoCode(e);
  const message = (code && Object.hasOwn(ERRNO_MESSAGES, code) ? ERRNO_MESSAGES[code] : undefined) ?? `the file could not be read (${code ?? 'unknown error'})`;
  return code ? { ok: false, reason: 'io-error', message, errno: code } : { ok: false, reason: 'io-error', message };
}

function mb(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}
