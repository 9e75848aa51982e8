import fs from 'node:fs';
import path from 'node:path';
import type { BackupConfig } from '../config/backup-settings.js';
import { fsyncDir } from '../security/files.js';

/** The live index file name (same as service/context.ts INDEX_FILE; repeated to avoid an import cycle). */
export const INDEX_DB = 'index.db';
/** Where damaged index files (`.corrupt`) and files replaced by a restore (`.pre-restore`) are moved. */
export const RECOVERY_DIR = 'recovery';
/** Guardian state that outlives the process: last integrity check, last skip, last recovery. */
export const STATE_FILE = 'state.json';

export function indexFile(dataDir: string): string {
  return path.join(dataDir, INDEX_DB);
}

/** The backup folder: `backup.dir` (relative paths are taken from the data directory) or `<dataDir>/backups`. */
export function backupDir(dataDir: string, cfg: Pick<BackupConfig, 'dir'> | null | undefined): string {
  const d = cfg?.dir;
  return d ? path.resolve(dataDir, d) : path.join(dataDir, 'backups');
}

export function recoveryDir(dataDir: string): string {
  return path.join(dataDir, RECOVERY_DIR);
}

/** The files that travel with a SQLite main file: a swap must never pair a file with another file's WAL. */
export function sideFiles(file: string): string[] {
  return [`${file}-wal`, `${file}-shm`, `${file}-journal`];
}

/** A sortable UTC stamp for file names: 20261129T053520Z (milliseconds added when asked). */
export function stamp(ms: number, withMs = false): string {
  const iso = new Date(ms).toISOString();
  const base = iso.slice(0, 19).replace(/[-:]/g, '');
  return withMs ? `${base}${iso.slice(20, 23)}Z` : `${base}Z`;
}

export function ensureDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
}

export { fsyncDir };

/**
 * Moves a database and its side files to `dest` (+ the same suffixes). Never deletes: a file that
 * already exists at the destination gets a numeric suffix instead.
 */
export function moveDatabase(from: string, dest: string): string {
  let target = dest;
  for (let i = 1; fs.existsSync(target); i++) target = `${dest}.${i}`;
  ensureDir(path.dirname(target));
  if (fs.existsSync(from)) fs.renameSync(from, target);
  for (const [i, side] of sideFiles(from).entries()) {
    if (fs.existsSync(side)) fs.renameSync(side, sideFiles(target)[i]!);
  }
  fsyncDir(path.dirname(from));
  fsyncDir(path.dirname(target));
  return target;
}
