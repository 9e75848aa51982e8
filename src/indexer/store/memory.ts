import v8 from 'node:v8';
import Database from 'better-sqlite3-multiple-ciphers';
import type { Db } from './db.js';

/**
 * The memory knobs (config.memory) on an index connection: SQLite's own cache, and memory-mapped
 * reads (off by default: mapped pages are resident memory of this process).
 */
export function applyMemoryLimits(db: Db, limits: { sqliteCacheMb: number; sqliteMmapMb: number }): void {
  db.pragma(`cache_size = -${limits.sqliteCacheMb * 1024}`);
  db.pragma(`mmap_size = ${limits.sqliteMmapMb * 1048576}`);
}

/** SQLite frees what its cache holds beyond the pages in use (a no-op on a closed connection). */
export function releaseSqliteMemory(db: Db): void {
  if (db.open) db.pragma('shrink_memory');
}

/**
 * One full collection that also compacts the old generation (issue #14). Indexing leaves V8's old
 * space fragmented: measured on the full bench corpus, 38.5 MB of old space held 22 MB of live
 * objects 60 s after the first pass, and neither a plain `gc()` nor V8's memory reducer moved
 * them. Compacting packs the survivors so the emptied pages go back to the OS. V8 reads this flag
 * at each collection, so it is on for this one only; compaction costs tens of milliseconds,
 * which is why it runs when idle, not during indexing (heap-collect.ts collects without it).
 */
export function compactingCollection(gc: () => void): void {
  v8.setFlagsFromString('--compact-on-every-full-gc');
  try {
    gc();
  } finally {
    v8.setFlagsFromString('--no-compact-on-every-full-gc');
  }
}

/** What `trimMalloc` did: gave pages back, found none to give, or cannot run on this system. */
export type MallocTrim = 'released' | 'nothing-to-release' | 'unavailable';

/**
 * Hands the free memory glibc's malloc keeps inside its heap back to the OS (issue #14).
 *
 * Why: after indexing, the service's malloc heap is mostly free but fragmented (SQLite's page cache
 * and FTS5's pending terms, freed between live allocations). glibc returns only the top of its heap
 * on free(); the rest stays resident until malloc_trim() is called. Measured on an idle service after
 * the small bench corpus (gdb, malloc_info): 31 MB free in 40 MB of heap, and malloc_trim(0) took the
 * process from 113 to 91 MB resident. `PRAGMA shrink_memory` alone frees into that heap, not to the OS.
 *
 * How, without a native addon of our own: SQLite's extension loader dlopen()s a library and calls
 * the named entry point with (db, &errmsg, api). Naming malloc_trim in libc.so.6 (already loaded:
 * dlopen returns the loaded copy) calls malloc_trim(pad = the connection's address); the extra
 * arguments are ignored by the C calling convention on x86-64 and arm64. A large pad only keeps the
 * top of the heap (free() trims that anyway); the free pages in between are released whatever the pad.
 * malloc_trim returns 1 when it released memory, which SQLite reports as a failed initialisation; 0
 * loads "successfully" and the throwaway connection's close unloads it. Linux only; elsewhere (no
 * glibc, no libc.so.6, no malloc_trim) it reports 'unavailable' and nothing else happens.
 */
export function trimMalloc(platform: NodeJS.Platform = process.platform): MallocTrim {
  if (platform !== 'linux') return 'unavailable';
  let probe: Db;
  try {
    probe = new Database(':memory:');
  } catch {
    return 'unavailable';
  }
  try {
    // The typings omit the entry-point argument the binding takes (better-sqlite3 loadExtension(path, entryPoint)).
    (probe as unknown as { loadExtension(file: string, entryPoint: string): void }).loadExtension('libc.so.6', 'malloc_trim');
    return 'nothing-to-release';
  } catch (e) {
    return e instanceof Error && /error during initialization/.test(e.message) ? 'released' : 'unavailable';
  } finally {
    probe.close();
  }
}

/** What a quiet service can give back (service.ts hands in its parts; nothing is reached for globally). */
export interface IdleMemory {
  /** Every SQLite connection the process keeps open: each has its own page cache. */
  connections: readonly Db[];
  /** Caches of results and memos that refill on demand. */
  caches: readonly (() => void)[];
  /** A full collection (heap-collect.ts fullCollector), or null when this process cannot run one. */
  gc: (() => void) | null;
  /** Returns malloc's free pages to the OS (trimMalloc); runs last, after everything above freed into it. */
  trim: () => MallocTrim;
}

/**
 * Releases in this order: caches first, so what they held is garbage; SQLite's page caches next;
 * then one compacting collection, which returns the V8 heap pages emptied by both (and frees the
 * native memory of collected objects); last, malloc's free pages go back to the OS.
 */
export function releaseIdleMemory(m: IdleMemory): MallocTrim {
  for (const clear of m.caches) clear();
  for (const db of m.connections) releaseSqliteMemory(db);
  if (m.gc) compactingCollection(m.gc);
  return m.trim();
}
