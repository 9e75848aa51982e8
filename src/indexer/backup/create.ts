import fs from 'node:fs';
import path from 'node:path';
import { OwletError, owletError } from '../../shared/errors.js';
import type { AuditLog } from '../audit/types.js';
import type { Logger } from '../log/logger.js';
import { resumeThreshold, statfsProbe, type SpaceProbe, type VolumeSpace } from '../resilience/disk-space.js';
import { VERSION } from '../version.js';
import { cleanTemporaries, isVerified, listBackups, newBackupId, readManifest, removeBackup, type BackupReason, type Manifest } from './manifest.js';
import { backupDir, ensureDir, indexFile } from './paths.js';
import { planRetention } from './retention.js';
import { runTask, runTaskSync } from './runner.js';
import type { BackupConfig } from './settings.js';
import { updateState, type BackupSkip } from './state.js';
import { snapshotPath, type Task } from './worker.js';
import { sqlString, type RawDb } from './sqlite.js';

export interface BackupDeps {
  dataDir: string;
  settings: BackupConfig;
  /** The live index's key (ctx.key); null for a plaintext index. */
  key: Buffer | null;
  log: Logger;
  now?: () => number;
  space?: SpaceProbe;
  audit?: AuditLog;
  /** Owlet's own state saved beside the index (the parsed config.json). */
  ownState?: () => unknown;
  /** Where alerts go (the alert engine when present). */
  onAlert?: (alert: BackupAlert) => void;
  /** gzip level (1-9); default 1 for an encrypted index (ciphertext does not compress), else 6. */
  level?: number;
  /** Cancels a running backup (the service stopping). */
  signal?: AbortSignal;
}

export interface BackupAlert {
  id: 'backup-skipped-no-space' | 'backup-failed' | 'backup-verification-failed';
  severity: 'warning' | 'critical';
  message: string;
}

export type CreateOutcome =
  | { status: 'created'; manifest: Manifest; pruned: string[]; ms: number }
  | { status: 'skipped'; skip: BackupSkip };

/** Room a backup needs: the uncompressed copy and the compressed file exist together for a moment. */
export function spaceNeeded(dbBytes: number, space: VolumeSpace): number {
  return 2 * dbBytes + resumeThreshold(space.total);
}

function sizeOf(f: string): number {
  try {
    return fs.statSync(f).size;
  } catch {
    return 0;
  }
}

function liveBytes(dataDir: string): number {
  const f = indexFile(dataDir);
  return sizeOf(f) + sizeOf(`${f}-wal`);
}

/**
 * One backup at a time per folder, across processes: `.lock` holds the owner's pid; a lock whose
 * process is gone is taken over.
 */
export function acquireLock(dir: string): () => void {
  ensureDir(dir);
  const lock = path.join(dir, '.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(lock, 'wx', 0o600);
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      return () => fs.rmSync(lock, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(fs.readFileSync(lock, 'utf8').trim());
      let alive = false;
      try {
        if (pid > 0) {
          process.kill(pid, 0);
          alive = true;
        }
      } catch (err) {
        alive = (err as NodeJS.ErrnoException).code === 'EPERM';
      }
      if (alive) throw owletError('OWL_ERR_BACKUP_BUSY', { reason: `another backup is running (process ${pid}); try again when it has finished` });
      fs.rmSync(lock, { force: true });
    }
  }
  throw owletError('OWL_ERR_BACKUP_BUSY', { reason: 'could not take the backup lock; try again' });
}

function readOwnState(dataDir: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(path.join(dataDir, 'config.json'), 'utf8')) as unknown;
  } catch {
    return null;
  }
}

/** Removes backups retention no longer wants; returns their ids. */
export function prune(dir: string, settings: BackupConfig, log: Logger): string[] {
  const plan = planRetention(listBackups(dir).map((b) => b.manifest), settings.retention);
  for (const id of plan.remove) removeBackup(dir, id);
  if (plan.remove.length) log.info('old backups removed', { removed: plan.remove.length, kept: plan.keep.length });
  return plan.remove;
}

async function checkSpace(deps: BackupDeps, dir: string, now: number): Promise<BackupSkip | null> {
  const space = await (deps.space ?? statfsProbe)(dir);
  const needed = spaceNeeded(liveBytes(deps.dataDir), space);
  if (space.free >= needed) return null;
  const mb = (n: number) => `${Math.ceil(n / 1048576)} MB`;
  return {
    at: new Date(now).toISOString(),
    reason: 'no-space',
    neededBytes: needed,
    freeBytes: space.free,
    message: `backup skipped: it needs about ${mb(needed)} free in ${dir}, only ${mb(space.free)} are; free some space or set backup.dir to a larger disk`,
  };
}

function after(deps: BackupDeps, dir: string, m: Manifest, reason: BackupReason, t0: number): CreateOutcome {
  const { log } = deps;
  const verified = isVerified(m);
  if (verified) {
    log.info('backup created and verified', { id: m.id, reason, documents: m.documentCount, bytes: m.size, ms: Date.now() - t0 });
    updateState(deps.dataDir, { lastSkip: null, lastFailure: null });
  } else {
    log.error('backup failed verification', { id: m.id, reason, problem: m.verification?.message ?? 'not verified' });
    updateState(deps.dataDir, { lastFailure: { at: new Date().toISOString(), id: m.id, message: m.verification?.message ?? 'not verified' } });
    deps.onAlert?.({ id: 'backup-verification-failed', severity: 'critical', message: `backup ${m.id} failed verification: ${m.verification?.message ?? 'not verified'}` });
  }
  deps.audit?.append('backup.created', { id: m.id, reason, documents: m.documentCount, bytes: m.size, verified });
  const pruned = prune(dir, deps.settings, log);
  return { status: 'created', manifest: m, pruned, ms: Date.now() - t0 };
}

/** What a backup that did not finish may leave: never a backup that has its manifest. */
/** What every backup's manifest records, however it is taken. */
function backupFields(deps: BackupDeps, reason: BackupReason, now: number) {
  return {
    reason,
    createdAt: new Date(now).toISOString(),
    owletVersion: VERSION,
    config: (deps.ownState ?? (() => readOwnState(deps.dataDir)))(),
    key: deps.key,
    verify: true,
    level: deps.level,
  };
}

function removeUnfinished(dir: string, id: string): void {
  if (readManifest(dir, id)) return;
  for (const f of [snapshotPath(dir, id), `${snapshotPath(dir, id)}-journal`, `${path.join(dir, id)}.db.gz.partial`, path.join(dir, `${id}.db.gz`)]) fs.rmSync(f, { force: true });
}

function failed(deps: BackupDeps, e: unknown, id: string): never {
  const message = e instanceof Error ? e.message : String(e);
  deps.log.error('backup failed', { id, error: e });
  updateState(deps.dataDir, { lastFailure: { at: new Date().toISOString(), id, message } });
  deps.onAlert?.({ id: 'backup-failed', severity: 'warning', message });
  throw e;
}

/**
 * Takes a verified backup of the live index without stopping searches: the copy, compression
 * and verification run in a worker thread with its own read-only connection (see worker.ts).
 * Skips (returns `skipped`, logs, alerts) rather than filling the disk.
 */
export async function createBackup(deps: BackupDeps, reason: BackupReason): Promise<CreateOutcome> {
  const now = (deps.now ?? Date.now)();
  const dir = backupDir(deps.dataDir, deps.settings);
  const t0 = Date.now();
  const release = acquireLock(dir);
  const id = newBackupId(now);
  try {
    cleanTemporaries(dir);
    const skip = await checkSpace(deps, dir, now);
    if (skip) {
      deps.log.warn('backup skipped: not enough free space', { dir, neededBytes: skip.neededBytes, freeBytes: skip.freeBytes });
      updateState(deps.dataDir, { lastSkip: skip });
      deps.onAlert?.({ id: 'backup-skipped-no-space', severity: 'warning', message: skip.message });
      return { status: 'skipped', skip };
    }
    const task: Task = {
      op: 'backup',
      source: indexFile(deps.dataDir),
      dir,
      id,
      ...backupFields(deps, reason, now),
      lowPriority: true,
    };
    let m: Manifest;
    try {
      m = await runTask<Manifest>(task, { signal: deps.signal });
    } catch (e) {
      removeUnfinished(dir, id);
      if (deps.signal?.aborted) {
        deps.log.info('backup cancelled: the service is stopping', { id });
        throw e;
      }
      failed(deps, e, id);
    }
    return after(deps, dir, m, reason, t0);
  } finally {
    release();
  }
}

/**
 * The backup taken inside openIndex before a schema migration (synchronous: openIndex is). The
 * copy comes from the caller's connection (VACUUM INTO, so it keeps that connection's key), the
 * compression and verification from a worker thread this thread waits for.
 */
export function createBackupSync(deps: BackupDeps & { db: RawDb }, reason: BackupReason): CreateOutcome {
  const now = (deps.now ?? Date.now)();
  const dir = backupDir(deps.dataDir, deps.settings);
  const t0 = Date.now();
  const release = acquireLock(dir);
  const id = newBackupId(now);
  try {
    cleanTemporaries(dir);
    const s = fs.statfsSync(dir);
    const space = { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
    const needed = spaceNeeded(liveBytes(deps.dataDir), space);
    if (space.free < needed) {
      const skip: BackupSkip = { at: new Date(now).toISOString(), reason: 'no-space', neededBytes: needed, freeBytes: space.free, message: `the backup before the schema migration was skipped: not enough free space in ${dir}` };
      deps.log.warn('backup skipped: not enough free space', { dir, neededBytes: needed, freeBytes: space.free, reason });
      updateState(deps.dataDir, { lastSkip: skip });
      deps.onAlert?.({ id: 'backup-skipped-no-space', severity: 'warning', message: skip.message });
      return { status: 'skipped', skip };
    }
    const snap = snapshotPath(dir, id);
    let m: Manifest;
    try {
      deps.db.exec(`VACUUM INTO ${sqlString(snap)}`);
      m = runTaskSync<Manifest>({
        op: 'pack',
        snapshot: snap,
        dir,
        id,
        ...backupFields(deps, reason, now),
        lowPriority: false,
      });
    } catch (e) {
      fs.rmSync(snap, { force: true });
      failed(deps, e, id);
    }
    return after(deps, dir, m, reason, t0);
  } finally {
    release();
  }
}
