import fs from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../../shared/errors.js';
import { extensionOf, type PathFilter } from './filters.js';
import { withTimeout } from '../resilience/timeout.js';

export interface FoundFile {
  kind: 'file';
  path: string;
  ext: string;
  size: number;
  mtimeMs: number;
  fileId: string;
}

export type SkipReason = 'symlink' | 'special' | 'too-large' | 'invalid-name' | 'unreadable' | 'unsupported';

export interface SkippedEntry {
  kind: 'skip';
  path: string;
  ext: string;
  reason: SkipReason;
  message: string;
  size: number;
  mtimeMs: number;
  fileId: string | null;
}

/** A directory that could not be read: its known documents must not be treated as deleted. */
export interface UnreadableDir {
  kind: 'unreadable-dir';
  path: string;
  message: string;
}

export type CrawlItem = FoundFile | SkippedEntry | UnreadableDir;

export interface CrawlOptions {
  filter: PathFilter;
  maxBytes: number;
  /** Deadline for each stat and directory listing (a vanished network share can hang forever). */
  ioTimeoutMs?: number;
  signal?: AbortSignal;
}

function fileIdOf(st: fs.Stats): string {
  return `${st.dev}:${st.ino}`;
}

/** Decides what the indexer does with one non-directory entry, from its lstat alone (never opened). */
export function classifyEntry(full: string, st: fs.Stats, maxBytes: number): FoundFile | SkippedEntry {
  const base = { path: full, ext: extensionOf(path.basename(full)), size: st.size, mtimeMs: Math.floor(st.mtimeMs), fileId: fileIdOf(st) };
  if (st.isSymbolicLink())
    return { kind: 'skip', ...base, reason: 'symlink', message: 'symbolic links are not followed; add the target folder as a root to index it' };
  if (!st.isFile()) return { kind: 'skip', ...base, size: 0, reason: 'special', message: 'not a regular file (FIFO, socket or device); never opened' };
  if (st.size > maxBytes)
    return { kind: 'skip', ...base, reason: 'too-large', message: `larger than the ${Math.round(maxBytes / 1048576)} MB limit (maxFileSizeMb)` };
  return { kind: 'file', ...base };
}

/**
 * Walks one root depth-first without recursion (deep trees cannot overflow the stack). Only regular
 * files are reported for indexing; symlinks are never followed (so never out of the roots and never
 * round a loop), FIFOs, sockets and devices are skipped without being opened, and files over the
 * size limit are reported without being read. Directory identities are remembered so a bind mount
 * cannot make the walk circle.
 */
export async function* crawl(root: string, opts: CrawlOptions): AsyncGenerator<CrawlItem> {
  const seenDirs = new Set<string>();
  const stack: string[] = [root];
  while (stack.length) {
    if (opts.signal?.aborted) return;
    const dir = stack.pop()!;
    let entries: fs.Dirent<Buffer>[];
    try {
      const st = await withTimeout(fs.promises.stat(dir), opts.ioTimeoutMs ?? 0, `reading ${dir}`);
      const id = fileIdOf(st);
      if (seenDirs.has(id)) continue;
      seenDirs.add(id);
      entries = await withTimeout(fs.promises.readdir(dir, { withFileTypes: true, encoding: 'buffer' }), opts.ioTimeoutMs ?? 0, `listing ${dir}`);
    } catch (e) {
      yield { kind: 'unreadable-dir', path: dir, message: `cannot read folder (${errnoCode(e) ?? (e as Error).message})` };
      continue;
    }
    const subdirs: string[] = [];
    for (const ent of entries) {
      const raw = ent.name;
      const name = raw.toString('utf8');
      const full = path.join(dir, name);
      const rel = path.relative(root, full).split(path.sep).join('/');
      if (opts.filter.excluded(rel, name)) continue;
      if (!Buffer.from(name, 'utf8').equals(raw)) {
        // The name cannot be represented as text we could open again later: record it, do not guess.
        if (ent.isFile() && opts.filter.included(rel))
          yield { kind: 'skip', path: full, ext: extensionOf(name), reason: 'invalid-name', message: 'file name is not valid UTF-8', size: 0, mtimeMs: 0, fileId: null };
        continue;
      }
      if (ent.isDirectory()) {
        subdirs.push(full);
        continue;
      }
      if (!opts.filter.included(rel)) continue;
      let st: fs.Stats;
      try {
        st = await withTimeout(fs.promises.lstat(full), opts.ioTimeoutMs ?? 0, `reading ${full}`);
      } catch (e) {
        if (errnoCode(e) === 'ENOENT') continue; // vanished between readdir and lstat
        yield { kind: 'skip', path: full, ext: extensionOf(name), reason: 'unreadable', message: `cannot read file information (${errnoCode(e) ?? 'error'})`, size: 0, mtimeMs: 0, fileId: null };
        continue;
      }
      if (st.isDirectory()) {
        subdirs.push(full); // file systems that report no type in readdir
        continue;
      }
      yield classifyEntry(full, st, opts.maxBytes);
    }
    // Reverse so the walk visits folders in name order (stack is LIFO).
    subdirs.sort().reverse();
    stack.push(...subdirs);
  }
}
