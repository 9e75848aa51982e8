import { OwletError, owletError } from '../../shared/errors.js';
import type { AuditLog } from '../audit/types.js';
import type { Logger } from '../log/logger.js';
import type { SpaceProbe } from '../resilience/disk-space.js';
import type { IndexService } from '../service/index-service.js';
import { isCorruptionError } from '../store/damage.js';
import { createBackup, type BackupAlert, type CreateOutcome } from './create.js';
import { listing, type BackupApi, type BackupListing } from './listing.js';
import { listBackups, readManifest, type BackupReason, type Verification } from './manifest.js';
import { backupDir } from './paths.js';
import { verifiedBackups, type RestoreResult } from './restore.js';
import { BackupScheduler, realTimers, type Timers } from './scheduler.js';
import { DEFAULT_BACKUP_CONFIG, type BackupConfig } from '../config/backup-settings.js';
import { readState, type GuardianPhase } from './state.js';
import { verifyBackup } from './verify.js';

export interface ServiceBackupsOptions {
  service: IndexService;
  dataDir: string;
  log: Logger;
  /** The recovery phase (a backup is refused while recovering; listings show it). */
  phase: () => GuardianPhase;
  /** Restores under the running service (recovery/ swaps the database). */
  restore: (id: string) => Promise<RestoreResult>;
  /** Keys that may open this install's backups (live first). */
  keys: () => Buffer[];
  /** A backup that read a damaged page found damage of the live index. */
  onDamage: (e: unknown) => void;
  onAlert: (a: BackupAlert) => void;
  audit?: () => AuditLog | undefined;
  now?: () => number;
  timers?: Timers;
  space?: SpaceProbe;
  catchUpDelayMs?: number;
  /** gzip level for backups (1-9). */
  level?: number;
}

/**
 * Backups of the running service: the daily schedule, create, verify, list, and restore (handed
 * to recovery, which owns swapping the database). What the HTTP routes and monitoring use.
 */
export class ServiceBackups implements BackupApi {
  private scheduler: BackupScheduler | null = null;
  /** Cancels running backups when the service stops. */
  private readonly abort = new AbortController();
  private lastSettings: BackupConfig = DEFAULT_BACKUP_CONFIG;
  private readonly now: () => number;

  constructor(private readonly o: ServiceBackupsOptions) {
    this.now = o.now ?? Date.now;
  }

  private get settings(): BackupConfig {
    const c = this.o.service.current();
    if (c.ok) this.lastSettings = (c.service.config as { backup?: BackupConfig }).backup ?? DEFAULT_BACKUP_CONFIG;
    return this.lastSettings;
  }

  private get dir(): string {
    return backupDir(this.o.dataDir, this.settings);
  }

  /** Starts the daily schedule (and a catch-up backup when the last one is overdue). */
  start(): void {
    const s = this.settings;
    this.scheduler = new BackupScheduler({
      enabled: s.enabled,
      hour: s.hour,
      now: this.now,
      timers: this.o.timers ?? realTimers,
      run: async (reason) => {
        const c = this.o.service.current();
        if (reason === 'catch-up' && (!c.ok || c.service.counts().indexed === 0)) return;
        await this.create(reason);
      },
      lastBackupAt: () => {
        const v = verifiedBackups(this.dir, this.o.keys())[0];
        return v ? Date.parse(v.createdAt) : null;
      },
      log: this.o.log,
      catchUpDelayMs: this.o.catchUpDelayMs,
      busy: () => {
        const c = this.o.service.current();
        return c.ok && c.service.isIndexing();
      },
    });
    this.scheduler.start();
  }

  /** Cancels running backups; a backup in its worker finishes there (it does not block the close). */
  stop(): void {
    this.abort.abort();
    void this.scheduler?.stop();
  }

  /** For monitoring's health check and alert rules (BackupInfo). */
  backupInfo(): { lastVerifiedAt: number | null; destination: string; lastSkippedAt: number | null } {
    const v = verifiedBackups(this.dir, this.o.keys())[0];
    const lastVerifiedAt = v?.verification ? Date.parse(v.verification.at) : null;
    const skip = readState(this.o.dataDir).lastSkip;
    const skippedAt = skip ? Date.parse(skip.at) : null;
    // A skip matters until a later backup succeeds: that is what raises and clears the alert.
    const lastSkippedAt = skippedAt !== null && (lastVerifiedAt === null || skippedAt > lastVerifiedAt) ? skippedAt : null;
    return { lastVerifiedAt, destination: this.dir, lastSkippedAt };
  }

  list(): BackupListing {
    return listing(this.o.dataDir, this.settings, this.o.phase(), this.scheduler?.nextAt ?? null);
  }

  create(reason: BackupReason = 'manual'): Promise<CreateOutcome> {
    const c = this.o.service.current();
    if (this.o.phase() === 'recovering' || !c.ok) return Promise.reject(owletError('OWL_ERR_BACKUP_BUSY', { reason: 'the index is being recovered; back up when it is done' }));
    return createBackup(
      {
        dataDir: this.o.dataDir,
        settings: this.settings,
        key: c.service.key,
        keys: this.o.keys(),
        log: this.o.log,
        now: this.now,
        space: this.o.space,
        audit: this.o.audit?.() ?? c.service.audit,
        onAlert: (a) => this.o.onAlert(a),
        level: this.o.level,
        signal: this.abort.signal,
      },
      reason,
    ).catch((e) => {
      // A copy that hit a damaged page is damage of the live index, found by the backup.
      if (isCorruptionError(e) || /malformed|not a database/i.test((e as Error).message)) this.o.onDamage(e);
      throw e;
    });
  }

  async verify(id?: string): Promise<{ id: string; verification: Verification }[]> {
    const dir = this.dir;
    const ids = id ? [id] : listBackups(dir).map((b) => b.manifest.id);
    if (id && !readManifest(dir, id)) throw owletError('OWL_ERR_BACKUP_NOT_FOUND', { id, dir });
    const out: { id: string; verification: Verification }[] = [];
    for (const x of ids) out.push({ id: x, verification: await verifyBackup(dir, x, this.o.keys(), this.now) });
    return out;
  }

  restore(id: string): Promise<RestoreResult> {
    return this.o.restore(id);
  }
}
