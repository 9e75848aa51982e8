import v8 from 'node:v8';
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

/** What a quiet service can give back (service.ts hands in its parts; nothing is reached for globally). */
export interface IdleMemory {
  /** Every SQLite connection the process keeps open: each has its own page cache. */
  connections: readonly Db[];
  /** Caches of results and memos that refill on demand. */
  caches: readonly (() => void)[];
  /** A full collection (heap-collect.ts fullCollector), or null when this process cannot run one. */
  gc: (() => void) | null;
}

/**
 * Releases in this order: caches first, so what they held is garbage; SQLite's page caches next;
 * then one compacting collection, which returns the heap pages emptied by both.
 */
export function releaseIdleMemory(m: IdleMemory): void {
  for (const clear of m.caches) clear();
  for (const db of m.connections) releaseSqliteMemory(db);
  if (m.gc) compactingCollection(m.gc);
}
