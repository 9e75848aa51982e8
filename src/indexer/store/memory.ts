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
