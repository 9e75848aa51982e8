import fs from 'node:fs';
import path from 'node:path';
import { OwletError, owletError } from '../../shared/errors.js';
import type { AuditLog } from '../audit/types.js';
import type { Logger } from '../log/logger.js';
import { resumeThreshold, statfsProbe, type SpaceProbe, type VolumeSpace } from '../resilience/disk-space.js';
import { VERSION } from '../version.js';
import { SCHEMA_VERSION } from '../store/schema-version.js';
import type { Codec } from './codec.js';
import { keyId } from './keys.js';
import { chainOf, cleanTemporaries, isVerified, listBackups, newBackupId, readManifest, removeBackup, type BackupReason, type Manifest } from './manifest.js';
import { backupDir, ensureDir, indexFile } from './paths.js';
import { describePlan, planRetention, type RetentionPlan } from './retention.js';
import { runTask, runTaskSync } from './runner.js';
import type { BackupConfig } from '../config/backup-settings.js';
import { readState, updateState, type BackupSkip } from './state.js';
import { partialPath, snapshotPath, type ParentRef, type Task } from './worker.js';
import type { RawDb } from './sqlite.js';

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
  /** Every key of the installation (current first): older backups are read and pruned with them. */
  keys?: readonly Buffer[];
  /** The compression; default zstd where the runtime has it, else brotli (codec.ts). */
  codec?: Codec;
  /** Plaintext bytes per encrypted chunk (default 4 MiB). */
  chunkBytes?: number;
  /** A full backup even when an incremental one would do. */
  full?: boolean;
  /** Ignored (backups are no longer gzip); kept so older callers still type-check. */
  level?: number;
  /** Cancels a running backup (the service stopping). */
  signal?: AbortSignal;
}

export interface BackupAlert {
  id: 'backup-skipped-no-space' | 'backup-failed' | 'backup-verification-failed' | 'backup-budget';
  severity: 'warning' | 'critical';
  message: string;
}

export type CreateOutcome =
  | { status: 'created'; manifest: Manifest; pruned: string[]; ms: number; retention: RetentionSummary }
  | { status: 'skipped'; skip: BackupSkip };

/** Room a backup needs: at most the size of the index (it is smaller: compressed, no FTS), plus the disk's reserve. */
export function spaceNeeded(dbBytes: number, space: VolumeSpace): number {
  return dbBytes + resumeThreshold(space.total);
}

/** `backup.maxBytes`, or its default: the smaller of 2x the index and 2% of the volume. */
export function budgetBytes(settings: BackupConfig, indexBytes: number, volumeBytes: number | null): number {
  if (settings.maxBytes != null) return settings.maxBytes;
  const twice = 2 * Math.max(indexBytes, 1);
  return volumeBytes ? Math.min(twice, Math.floor(volumeBytes * 0.02)) : twice;
}

export interface RetentionSummary {
  /** "kept 7 daily, 4 weekly, removed 2" */
  message: string;
  removed: string[];
  /** Protected backups announced for removal at the next pruning. */
  announced: string[];
  usedBytes: number;
  budgetBytes: number;
  pointsWanted: number;
  pointsKept: number;
  /** The budget holds (or will soon hold) fewer restore points than configured. */
  budgetWarning: string | null;
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

function volumeBytes(dir: string): number | null {
  try {
    const st = fs.statfsSync(dir);
    return st.blocks * st.bsize;
  } catch {
    return null;
  }
}

/**
 * Applies retention to the backups this installation can authenticate (anything else in the
 * folder is not ours and is left alone, never counted). Logs and returns what it did; announces
 * protected backups one pruning before removing them; warns when the budget limits, or is about
 * to limit, the restore points.
 */
export function prune(dir: string, settings: BackupConfig, log: Logger, keys: readonly Buffer[] = [], dataDir?: string): RetentionSummary {
  const entries = listBackups(dir, keys);
  const ours = entries.filter((b) => b.untrusted === null).map((b) => b.manifest);
  const state = dataDir ? readState(dataDir) : null;
  const announced = new Set(state?.pruneAnnounced ?? []);
  // Without the data folder the index's size is unknown: only an explicit budget applies.
  const budget = dataDir || settings.maxBytes != null ? budgetBytes(settings, dataDir ? liveBytes(dataDir) : 0, volumeBytes(dir)) : Number.MAX_SAFE_INTEGER;
  const plan: RetentionPlan = planRetention(ours, settings.retention, { maxBytes: budget, announced });
  for (const id of plan.remove) removeBackup(dir, id);
  const message = describePlan(plan);
  const nextFull = ours.find((m) => m.kind === 'full')?.size ?? 0;
  const budgetWarning = plan.budgetLimited
    ? `the backup budget (${mb(budget)}) holds only ${plan.pointsKept} restore points, fewer than the ${plan.pointsWanted} configured; raise backup.maxBytes or lower backup.retention`
    : plan.bytes + nextFull > budget && plan.pointsWanted > 1
      ? `the backups use ${mb(plan.bytes)} of their ${mb(budget)} budget; the next full backup will force fewer restore points than configured. Raise backup.maxBytes or lower backup.retention`
      : null;
  if (plan.remove.length || plan.announce.length) log.info('backup retention', { kept: plan.keep.length, daily: plan.daily, weekly: plan.weekly, removed: plan.remove, announced: plan.announce, usedBytes: plan.bytes, budgetBytes: budget });
  if (plan.announce.length) log.info('protected backups will be removed at the next pruning: newer verified backups cover them', { ids: plan.announce });
  if (budgetWarning) log.warn('backup budget', { usedBytes: plan.bytes, budgetBytes: budget, pointsKept: plan.pointsKept, pointsWanted: plan.pointsWanted });
  if (dataDir) {
    const stillHere = new Set(plan.keep);
    updateState(dataDir, { pruneAnnounced: [...new Set([...announced, ...plan.announce])].filter((id) => stillHere.has(id)) });
  }
  return { message, removed: plan.remove, announced: plan.announce, usedBytes: plan.bytes, budgetBytes: budget, pointsWanted: plan.pointsWanted, pointsKept: plan.pointsKept, budgetWarning };
}

const mb = (n: number) => `${Math.ceil(n / 1048576)} MB`;

/**
 * The backup a new one builds on, or null for a full backup: the newest verified format-2 backup
 * of this key and index history whose chain is complete, while the chain's increments stay under
 * `fullShare` of its full backup and the full backup is younger than `fullEveryDays`.
 */
export function chooseParent(dir: string, settings: BackupConfig, key: Buffer, keys: readonly Buffer[], reason: BackupReason, now: number, schemaVersion: number = SCHEMA_VERSION): ParentRef | null {
  if (!settings.incremental.enabled || reason === 'pre-update' || reason === 'pre-migration') return null;
  const entries = listBackups(dir, keys, now).filter((b) => b.untrusted === null && b.present);
  const byId = new Map(entries.map((b) => [b.manifest.id, b.manifest]));
  const head = entries.find((b) => isVerified(b.manifest))?.manifest;
  if (!head || head.format !== 2 || head.changeSeq === null || !head.indexUuid || head.keyId !== keyId(key)) return null;
  const { chain, missing } = chainOf(head.id, byId);
  if (missing || chain.length === 0) return null;
  const base = chain[0]!;
  // A restore refuses a chain whose increments have another schema than its full backup: an index
  // migrated since (e.g. schema 6 after the pre-migration full) starts a new chain.
  if (base.schemaVersion !== schemaVersion) return null;
  const increments = chain.slice(1).reduce((n, m) => n + m.size, 0);
  if (increments > base.size * settings.incremental.fullShare) return null;
  if (now - Date.parse(base.createdAt) > settings.incremental.fullEveryDays * 86_400_000) return null;
  if (chain.length > 60) return null;
  return { id: head.id, baseId: base.id, changeSeq: head.changeSeq, indexUuid: head.indexUuid, chain };
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
  const retention = prune(dir, deps.settings, log, keysOf(deps), deps.dataDir);
  if (retention.budgetWarning) deps.onAlert?.({ id: 'backup-budget', severity: 'warning', message: retention.budgetWarning });
  return { status: 'created', manifest: m, pruned: retention.removed, ms: Date.now() - t0, retention };
}

/** What every backup's manifest records, however it is taken. */
function backupFields(deps: BackupDeps, reason: BackupReason, now: number) {
  return {
    reason,
    createdAt: new Date(now).toISOString(),
    owletVersion: VERSION,
    config: (deps.ownState ?? (() => readOwnState(deps.dataDir)))(),
    key: deps.key,
    keys: keysOf(deps).map((k) => new Uint8Array(k)),
    codec: deps.codec,
    chunkBytes: deps.chunkBytes,
    verify: true,
  };
}

function keysOf(deps: Pick<BackupDeps, 'key' | 'keys'>): Buffer[] {
  const out: Buffer[] = deps.key ? [deps.key] : [];
  for (const k of deps.keys ?? []) if (!out.some((o) => o.equals(k))) out.push(k);
  return out;
}

function removeUnfinished(dir: string, id: string): void {
  if (readManifest(dir, id)) return;
  for (const f of [snapshotPath(dir, id), partialPath(dir, id), path.join(dir, `${id}.owb`)]) fs.rmSync(f, { force: true });
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
      parent: deps.full || !deps.key ? null : chooseParent(dir, deps.settings, deps.key, keysOf(deps), reason, now),
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
 * The backup taken inside openIndex before a schema migration (synchronous: openIndex is): the
 * same work as createBackup, in a worker thread this thread waits for.
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
    let m: Manifest;
    try {
      // The caller's connection holds no transaction here (openIndex, before migrating): the
      // worker reads the same file on its own connection, always a full backup.
      void deps.db;
      m = runTaskSync<Manifest>({
        op: 'backup',
        source: indexFile(deps.dataDir),
        dir,
        id,
        ...backupFields(deps, reason, now),
        parent: null,
        lowPriority: false,
      });
    } catch (e) {
      removeUnfinished(dir, id);
      failed(deps, e, id);
    }
    return after(deps, dir, m, reason, t0);
  } finally {
    release();
  }
}
