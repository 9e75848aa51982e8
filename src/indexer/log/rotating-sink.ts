import fs from 'node:fs';
import path from 'node:path';
import type { Sink } from './logger.js';

export interface RotatingSinkOptions {
  /** The live file, e.g. <dataDir>/logs/service.log; rotated copies are file.1 (newest) … file.N. */
  file: string;
  /** Rotate before a write would take the live file past this size. */
  maxBytes: number;
  /** Rotated files kept besides the live one; older ones are deleted. */
  maxFiles: number;
}

export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024;
export const DEFAULT_LOG_FILES = 5;

/**
 * A JSON-lines file sink that rotates by size and keeps a fixed number of files, so logs never
 * fill a disk: at most maxBytes × (maxFiles + 1) bytes. Writes are synchronous (one writeSync per
 * line) so the last lines before a crash are on disk. Several processes may append to the same
 * file (the supervisor and its child); each rotates when it sees the file too large, and a file
 * renamed under another writer only means that writer finishes its line in the rotated copy.
 */
export function createRotatingFileSink(opts: RotatingSinkOptions): Sink & { close(): void } {
  const maxBytes = Math.max(1024, opts.maxBytes);
  const maxFiles = Math.max(1, Math.floor(opts.maxFiles));
  fs.mkdirSync(path.dirname(opts.file), { recursive: true, mode: 0o700 });
  let fd = -1;
  let size = 0;
  const open = () => {
    // O_NOFOLLOW: a log swapped for a symlink (to ~/.bashrc, say) is never written through.
    fd = fs.openSync(opts.file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | (fs.constants.O_NOFOLLOW ?? 0), 0o600);
    size = fs.fstatSync(fd).size;
  };
  const rotate = () => {
    fs.closeSync(fd);
    fs.rmSync(`${opts.file}.${maxFiles}`, { force: true });
    for (let i = maxFiles - 1; i >= 1; i--) {
      try {
        fs.renameSync(`${opts.file}.${i}`, `${opts.file}.${i + 1}`);
      } catch {
        // That generation does not exist yet.
      }
    }
    try {
      fs.renameSync(opts.file, `${opts.file}.1`);
    } catch {
      // Another process rotated it a moment ago.
    }
    open();
  };
  open();
  return {
    write(line: string) {
      const bytes = Buffer.byteLength(line);
      try {
        // fstat per line (about a microsecond): another process may be appending to the same file.
        size = fs.fstatSync(fd).size;
        if (size + bytes > maxBytes && size > 0) {
          let current: fs.Stats | null = null;
          try {
            current = fs.statSync(opts.file);
          } catch {
            // Renamed away and not yet recreated.
          }
          if (current && current.ino === fs.fstatSync(fd).ino) rotate();
          else {
            // Someone else rotated: continue in the new live file (rotating it too if needed).
            fs.closeSync(fd);
            open();
            if (size + bytes > maxBytes && size > 0) rotate();
          }
        }
        fs.writeSync(fd, line);
        size += bytes;
      } catch {
        // Logging must never take the service down (disk full, file removed): drop the line.
      }
    },
    close() {
      if (fd >= 0) fs.closeSync(fd);
      fd = -1;
    },
  };
}
