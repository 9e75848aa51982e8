import fs from 'node:fs';
import path from 'node:path';
import type { StatusReport } from '../../shared/api.js';
import { OwletError, owletError, isOwletError } from '../../shared/errors.js';
import { integrityCheckInWorker, type IntegrityResult } from '../health/integrity.js';
import type { AuditLog } from '../audit/types.js';
import { loadConfig } from '../config/load.js';
import type { Logger } from '../log/logger.js';
import type { SpaceProbe } from '../resilience/disk-space.js';
import { VERSION } from '../version.js';
import { fileHeaderIsPlain } from '../security/cipher.js';
import { candidateKeys } from '../security/data-key.js';
import type { SecretStore } from '../security/secret-store.js';
import { openSecretStore } from '../security/secrets.js';
import type { OwletService } from '../service/service.js';
import { createBackup, type BackupAlert, type CreateOutcome } from './create.js';
import { diagnose, isCorruptionError, type Diagnosis } from './integrity.js';
import { isVerified, keyId, listBackups, readManifest, writeManifest, type BackupReason, type Manifest, type Verification } from './manifest.js';
import { backupDir, indexFile, sideFiles } from './paths.js';
import { copyAndRebuild, repairFtsInPlace } from './repair.js';
import { putBack, setAside, stageRestore, swapIn, verifiedBackups, type RestoreResult } from './restore.js';
import { BackupScheduler, realTimers, type Timers } from './scheduler.js';
import type { BackupConfig } from './settings.js';
import { DEFAULT_BACKUP_CONFIG } from './settings.js';
import { openWithKeys, type RawDb } from './sqlite.js';
import { readState, updateState, type GuardianState, type RecoveryRecord } from './state.js';
import { verifyBackup } from './verify.js';

/**
 * The IndexGuardian keeps the index usable: it checks it at start (`PRAGMA quick_check`), hears
 * about SQLITE_CORRUPT / SQLITE_NOTADB wherever they surface (trap.ts, installed by openIndex),
 * about a failed periodic integrity check and about an index file that vanished, and repairs:
 *
 *   serving ──damage──▶ recovering ─┬─ FTS only ───────────▶ rebuild FTS from stored text ─┐
 *      ▲                            ├─ rows fine, pages bad ▶ copy rows, rebuild FTS ───────┤
 *      │                            ├─ rows damaged ───────▶ quarantine, restore newest ───▶ reconciling ─┐
 *      │                            │                         verified backup                              │
 *      │                            └─ no usable backup ───▶ quarantine, empty index ──────▶ rebuilding ──┤
 *      └───────────────────────────────────────── first reconcile with the disk done ◀──────────────────┘
 *
 * Search is answered by the new service as soon as the index opens; the reconcile that follows
 * indexes what changed since the backup. The damaged file is moved to recovery/ with a timestamp,
 * never deleted. More than MAX_RECOVERIES in RECOVERY_WINDOW_MS stops the loop (`failed`): a disk
 * that keeps damaging files needs a person.
 *
 * The service object others hold is a stable facade (`service`) over the current OwletService, so
 * swapping the database after a recovery or a restore does not strand the HTTP layer or the
 * monitoring. Hooks others chained onto the old service's parts (indexer.onDidProcess, …) are
 * not carried over: subscribe to `onDidReplaceService` to chain them again.
 */

export type GuardianPhase = 'starting' | 'serving' | 'recovering' | 'reconciling' | 'rebuilding' | 'failed';

export interface GuardianOptions {
  dataDir: string;
  log: Logger;
  /** Builds a service; `hooks.onCorrupt` must reach openIndex (ServiceOptions.onCorrupt). */
  create: (hooks: { onCorrupt: (e: unknown) => void }) => OwletService;
  now?: () => number;
  timers?: Timers;
  space?: SpaceProbe;
  /** Default: the service's audit log. */
  audit?: AuditLog;
  /** Where alerts go; they are always logged too. */
  onAlert?: (a: GuardianAlert) => void;
  /** The secret store the service uses (default: the configured one), for keys of older backups. */
  secrets?: SecretStore;
  /** How often the guardian checks that index.db is still the file it opened. */
  fileCheckMs?: number;
  catchUpDelayMs?: number;
  /** gzip level for backups (1-9). */
  level?: number;
}

export interface GuardianAlert {
  id: BackupAlert['id'] | 'index-corrupt' | 'index-recovered' | 'index-rebuilding' | 'index-recovery-failed';
  severity: 'info' | 'warning' | 'critical';
  message: string;
}

export interface BackupSummary {
  id: string;
  createdAt: string;
  reason: BackupReason;
  owletVersion: string;
  schemaVersion: number;
  documentCount: number;
  size: number;
  sha256: string;
  encrypted: boolean;
  present: boolean;
  verified: boolean;
  verification: Verification | null;
}

export interface BackupListing {
  dir: string;
  backups: BackupSummary[];
  lastVerifiedAt: string | null;
  nextScheduledAt: string | null;
  /** The running service's recovery phase; null when listed without a service. */
  phase: GuardianPhase | null;
  state: GuardianState;
}

/** What the HTTP routes and the CLI need (tests pass fakes). */
export interface BackupApi {
  list(): BackupListing;
  create(reason?: BackupReason): Promise<CreateOutcome>;
  verify(id?: string): Promise<{ id: string; verification: Verification }[]>;
  restore(id: string): Promise<RestoreResult>;
}

export function summarise(m: Manifest, present: boolean): BackupSummary {
  return {
    id: m.id,
    createdAt: m.createdAt,
    reason: m.reason,
    owletVersion: m.owletVersion,
    schemaVersion: m.schemaVersion,
    documentCount: m.documentCount,
    size: m.size,
    sha256: m.sha256,
    encrypted: m.encrypted,
    present,
    verified: isVerified(m),
    verification: m.verification,
  };
}

/** The backup folder as the dashboard and `owlet backup list` show it. */
export function listing(dataDir: string, settings: BackupConfig, phase: GuardianPhase | null, nextAt: number | null): BackupListing {
  const dir = backupDir(dataDir, settings);
  const all = listBackups(dir);
  const verified = all.find((b) => b.present && isVerified(b.manifest));
  return {
    dir,
    backups: all.map((b) => summarise(b.manifest, b.present)),
    lastVerifiedAt: verified?.manifest.verification?.at ?? null,
    nextScheduledAt: nextAt ? new Date(nextAt).toISOString() : null,
    phase,
    state: readState(dataDir),
  };
}

const MAX_RECOVERIES = 3;
const RECOVERY_WINDOW_MS = 10 * 60_000;

type Outcome = { action: RecoveryRecord['action']; backupId: string | null; quarantined: string | null; problems: string[] } | null;

function settingsOf(svc: OwletService | null): BackupConfig {
  return (svc?.ctx.config as { backup?: BackupConfig } | undefined)?.backup ?? DEFAULT_BACKUP_CONFIG;
}

/** Damage visible without opening the file: empty, cut off mid-page, or a first page of zeros. */
export function damagedOnDisk(file: string): string | null {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return null;
  }
  if (st.size === 0) return 'the index file is empty';
  if (st.size % 512 !== 0) return `the index file is cut off (${st.size} bytes is not a whole number of pages)`;
  const head = Buffer.alloc(100);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, head, 0, 100, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (head.every((b) => b === 0)) return 'the first page of the index file is zeros';
  return null;
}

export class IndexGuardian implements BackupApi {
  private current: OwletService | null = null;
  /** The last status the current service gave, answered (marked as recovering) while none is open. */
  private lastStatus: StatusReport | null = null;
  readonly service: OwletService;
  private phaseValue: GuardianPhase = 'starting';
  private started = false;
  private stopping = false;
  private busy: Promise<unknown> | null = null;
  private pendingRecovery: ReturnType<typeof setImmediate> | null = null;
  private recoveries: number[] = [];
  private lastKey: Buffer | null = null;
  private lastSecrets: SecretStore | null = null;
  private ino: number | null = null;
  private fileTimer: NodeJS.Timeout | null = null;
  private scheduler: BackupScheduler | null = null;
  private recovery: RecoveryRecord | null = null;
  private readonly replaceListeners: ((s: OwletService) => void)[] = [];
  /** Cancels running backups when the service stops. */
  private readonly backupsAbort = new AbortController();
  private readonly now: () => number;
  private readonly timers: Timers;

  private constructor(private readonly o: GuardianOptions) {
    this.now = o.now ?? Date.now;
    this.timers = o.timers ?? realTimers;
    this.service = this.facade();
  }

  /** Checks (and if needed repairs) the index, then opens the first service. */
  static async open(o: GuardianOptions): Promise<IndexGuardian> {
    const g = new IndexGuardian(o);
    await g.bringUp('start', null);
    return g;
  }

  get phase(): GuardianPhase {
    return this.phaseValue;
  }

  get lastRecovery(): RecoveryRecord | null {
    return this.recovery;
  }

  private get svc(): OwletService {
    if (!this.current) throw owletError('OWL_ERR_NOT_READY', { reason: 'the index is being recovered; try again in a moment' });
    return this.current;
  }

  /** Resolves when no recovery or restore is pending or running. */
  async settled(): Promise<void> {
    while (this.pendingRecovery || this.busy) {
      if (this.pendingRecovery) await new Promise((r) => setImmediate(r));
      const b = this.busy;
      await b;
      if (this.busy === b && !this.pendingRecovery) break;
    }
  }

  onDidReplaceService(fn: (s: OwletService) => void): void {
    this.replaceListeners.push(fn);
  }

  private get settings(): BackupConfig {
    return settingsOf(this.current);
  }

  private get dir(): string {
    return backupDir(this.o.dataDir, this.settings);
  }

  private alert(a: GuardianAlert): void {
    const log = a.severity === 'critical' ? this.o.log.error : a.severity === 'warning' ? this.o.log.warn : this.o.log.info;
    log.call(this.o.log, 'alert', { alert: a.id, severity: a.severity, message: a.message });
    try {
      this.o.onAlert?.(a);
    } catch (e) {
      this.o.log.warn('alert delivery failed', { error: e });
    }
  }

  private audit(): AuditLog | undefined {
    return this.o.audit ?? (this.current as { audit?: AuditLog } | null)?.audit;
  }

  /** Keys that may open this install's backups: the live key first, then the store's others. */
  private keys(): Buffer[] {
    const out: Buffer[] = [];
    const add = (k: Buffer | null | undefined) => {
      if (k && !out.some((x) => x.equals(k))) out.push(k);
    };
    add(this.current?.ctx.key ?? this.lastKey);
    let store = this.current?.ctx.secrets ?? this.lastSecrets ?? this.o.secrets ?? null;
    // Opening the configured store only when something is encrypted (it may create files on a fresh folder).
    const encrypted = () => fileHeaderIsPlain(indexFile(this.o.dataDir)) === false || listBackups(this.dir).some((b) => b.manifest.encrypted);
    if (!store && encrypted()) {
      try {
        store = openSecretStore(this.o.dataDir, loadConfig(this.o.dataDir).security.secretStore);
      } catch {
        store = null;
      }
    }
    if (store) {
      try {
        for (const k of candidateKeys(store)) add(k);
      } catch {
        // An unreachable keychain: only the live key is known.
      }
    }
    return out;
  }

  // ── start-up and recovery ─────────────────────────────────────────────────────────────────

  private createService(): OwletService {
    const svc = this.o.create({ onCorrupt: (e) => this.reportCorruption(e) });
    this.lastKey = svc.ctx.key ?? null;
    this.lastSecrets = svc.ctx.secrets ?? null;
    try {
      this.ino = fs.statSync(indexFile(this.o.dataDir)).ino;
    } catch {
      this.ino = null;
    }
    return svc;
  }

  private async stopQuietly(svc: OwletService | null): Promise<void> {
    if (!svc) return;
    try {
      await svc.stop();
    } catch (e) {
      // A damaged file may refuse the final checkpoint; it is closed either way.
      this.o.log.warn('stopping the damaged index reported an error', { error: e });
      try {
        if (svc.ctx.db.open) svc.ctx.db.close();
      } catch {
        // already closed
      }
    }
  }

  /**
   * Opens a service on a usable index: repairs what quick_check finds, restores the newest
   * verified backup when rows are damaged, starts empty when no backup is usable.
   */
  private async bringUp(trigger: string, error: unknown): Promise<void> {
    const t0 = this.now();
    const file = indexFile(this.o.dataDir);
    let outcome: Outcome = null;
    const onDisk = damagedOnDisk(file);
    if (!fs.existsSync(file) && verifiedBackups(this.dir).length > 0) outcome = await this.restoreOrRebuild(['the index file is missing']);
    else if (onDisk) outcome = await this.restoreOrRebuild([onDisk]);
    // Checked on a connection of its own, before a service (with its worker processes) exists.
    for (let attempt = 0; attempt < 3 && fs.existsSync(file); attempt++) {
      const step = await this.inspect(file, trigger);
      if (step === 'ok') break;
      outcome = step;
      if (attempt === 2) {
        this.phaseValue = 'failed';
        this.alert({ id: 'index-recovery-failed', severity: 'critical', message: `the index is still damaged after recovery: ${step.problems.join('; ')}` });
        throw owletError('OWL_ERR_DB_CORRUPT', { reason: `the index at ${file} is damaged and could not be repaired (${step.problems.slice(0, 2).join('; ')}); damaged copies are in ${path.join(this.o.dataDir, 'recovery')}` });
      }
    }
    let svc: OwletService;
    try {
      svc = this.createService();
    } catch (e) {
      if (!this.openFailureIsDamage(e)) throw e;
      outcome = await this.restoreOrRebuild([(e as Error).message]);
      svc = this.createService();
    }
    this.current = svc;
    if (outcome) this.recorded(trigger, error, outcome, t0);
    else if (this.phaseValue === 'starting' || this.phaseValue === 'recovering') this.phaseValue = 'serving';
  }

  /**
   * quick_check on the index file and the repair its verdict calls for: 'ok', or what was done
   * (the caller checks again: a restored backup is inspected like any other file).
   */
  private async inspect(file: string, trigger: string): Promise<'ok' | NonNullable<Outcome>> {
    let opened: { db: RawDb; key: Buffer | null };
    try {
      opened = openWithKeys(file, this.keys());
    } catch (e) {
      if (this.openFailureIsDamage(e)) return this.restoreOrRebuild([(e as Error).message]);
      // A key this process cannot see (e.g. handed over by the host later): the service opens it.
      if (isOwletError(e) && e.code === 'OWL_ERR_DB_KEY') return 'ok';
      throw e;
    }
    const { db, key } = opened;
    let d: Diagnosis;
    let fresh: string | null = null;
    try {
      d = diagnose(db);
      if (d.kind === 'ok') return 'ok';
      this.o.log.error('index damage found', { kind: d.kind, problems: d.problems, tables: d.damagedTables, trigger });
      if (d.kind === 'fts' && repairFtsInPlace(db)) return { action: 'fts-rebuilt', backupId: null, quarantined: null, problems: d.problems };
      if (d.kind === 'fts' || d.kind === 'copy') fresh = this.copyRows(db, key);
    } finally {
      // Closed before any rename: SQLite names its WAL after the path it opened.
      db.close();
    }
    if (fresh) return { action: 'fts-rebuilt', backupId: null, quarantined: swapIn(this.o.dataDir, fresh, 'corrupt', this.now()), problems: d.problems };
    return this.restoreOrRebuild(d.problems);
  }

  /** An open that failed because of the file, not because of a key or a newer schema. */
  private openFailureIsDamage(e: unknown): boolean {
    if (isCorruptionError(e)) return true;
    if (isOwletError(e) && e.code === 'OWL_ERR_DB_KEY') {
      // An encrypted file that no key opens looks exactly like a wrong key. It is damage only if
      // the live key is the one the newest verified backup was written with.
      // (Only the current key counts: a match with a retired one would mean a rotation since.)
      const newest = verifiedBackups(this.dir)[0];
      const current = this.keys()[0];
      return Boolean(newest?.keyId && current && newest.keyId === keyId(current));
    }
    return false;
  }

  /** Rows are fine, FTS or page bookkeeping damaged: copies the rows into a new file and rebuilds FTS there. */
  private copyRows(db: RawDb, key: Buffer | null): string | null {
    const fresh = `${indexFile(this.o.dataDir)}.repairing`;
    try {
      copyAndRebuild(db, fresh, key);
      return fresh;
    } catch (e) {
      for (const f of [fresh, ...sideFiles(fresh)]) fs.rmSync(f, { force: true });
      this.o.log.error('rebuilding the damaged index from its rows failed; restoring a backup instead', { error: e });
      return null;
    }
  }

  /**
   * Quarantines the live file and puts the newest backup that still checks out in its place. A
   * backup that fails its checksum or check on the way is marked failed and never tried again.
   * With none, the index starts empty and the reconcile rebuilds it from the disk.
   */
  private async restoreOrRebuild(problems: string[]): Promise<NonNullable<Outcome>> {
    const file = indexFile(this.o.dataDir);
    const exists = fs.existsSync(file) || sideFiles(file).some((f) => fs.existsSync(f));
    const quarantined = exists ? setAside(this.o.dataDir, 'corrupt', this.now()) : null;
    const keys = this.keys();
    for (const m of verifiedBackups(this.dir)) {
      try {
        const staged = await stageRestore(this.o.dataDir, this.dir, m.id, keys);
        swapIn(this.o.dataDir, staged.staged, 'corrupt', this.now());
        return { action: 'restored', backupId: m.id, quarantined, problems };
      } catch (e) {
        this.o.log.error('backup unusable for recovery; trying an older one', { id: m.id, error: e });
        const cur = readManifest(this.dir, m.id);
        if (cur && isOwletError(e) && e.code === 'OWL_ERR_BACKUP_INVALID') {
          writeManifest(this.dir, { ...cur, verification: { at: new Date(this.now()).toISOString(), ok: false, message: e.message, checksum: false, integrity: false, documents: false } });
        }
      }
    }
    return { action: 'rebuilt-from-disk', backupId: null, quarantined, problems };
  }

  private recorded(trigger: string, error: unknown, out: NonNullable<Outcome>, t0: number): void {
    const readyMs = this.now() - t0;
    const rec: RecoveryRecord = {
      at: new Date(t0).toISOString(),
      trigger: error ? `${trigger}: ${(error as Error).message ?? String(error)}` : trigger,
      action: out.action,
      backupId: out.backupId,
      quarantined: out.quarantined ? path.relative(this.o.dataDir, out.quarantined) : null,
      problems: out.problems.slice(0, 10),
      readyMs,
      reconciledMs: null,
    };
    this.recovery = rec;
    updateState(this.o.dataDir, { lastRecovery: rec });
    this.phaseValue = out.action === 'rebuilt-from-disk' ? 'rebuilding' : out.action === 'restored' ? 'reconciling' : 'serving';
    const what =
      out.action === 'restored'
        ? `the index was damaged and has been restored from backup ${out.backupId}; changes made since are being indexed again`
        : out.action === 'fts-rebuilt'
          ? 'the full-text index was damaged and has been rebuilt from the stored text'
          : 'the index was damaged and no usable backup exists; it is being rebuilt from your folders';
    this.alert({ id: out.action === 'rebuilt-from-disk' ? 'index-rebuilding' : 'index-recovered', severity: 'warning', message: what });
    this.audit()?.append('backup.restored', { id: out.backupId, reason: 'corruption', action: out.action, quarantined: rec.quarantined });
    this.o.log.warn('index recovered', { action: out.action, backupId: out.backupId, quarantined: rec.quarantined, readyMs });
  }

  private afterReconcile(t0: number): void {
    const svc = this.current;
    if (!svc || this.phaseValue === 'serving') return;
    void svc.rescan().then(() => {
      if (this.current !== svc) return;
      if (this.recovery) {
        this.recovery = { ...this.recovery, reconciledMs: this.now() - t0 };
        updateState(this.o.dataDir, { lastRecovery: this.recovery });
      }
      this.phaseValue = 'serving';
      this.o.log.info('index back in step with the disk after recovery', { reconciledMs: this.recovery?.reconciledMs });
    });
  }

  /** Called for every SQLITE_CORRUPT/NOTADB seen on the live connection: recovery runs once, soon. */
  reportCorruption(e: unknown): void {
    if (this.stopping || this.pendingRecovery || this.phaseValue === 'recovering' || this.phaseValue === 'failed') return;
    this.pendingRecovery = setImmediate(() => {
      this.pendingRecovery = null;
      void this.recoverNow(e);
    });
  }

  /** Stops the damaged service, repairs or restores, and starts a new one. */
  private recoverNow(e: unknown): Promise<unknown> {
    const run = (this.busy ?? Promise.resolve()).then(async () => {
      if (this.stopping || this.phaseValue === 'failed') return;
      const now = this.now();
      this.recoveries = this.recoveries.filter((t) => now - t < RECOVERY_WINDOW_MS);
      if (this.recoveries.length >= MAX_RECOVERIES) {
        this.phaseValue = 'failed';
        this.alert({ id: 'index-recovery-failed', severity: 'critical', message: `the index was damaged ${MAX_RECOVERIES} times in ${RECOVERY_WINDOW_MS / 60_000} minutes; automatic recovery stopped. Check the disk, then restart Owlet` });
        return;
      }
      this.recoveries.push(now);
      this.alert({ id: 'index-corrupt', severity: 'critical', message: `index damage detected: ${(e as Error)?.message ?? String(e)}` });
      this.phaseValue = 'recovering';
      const old = this.current;
      this.current = null;
      await this.stopQuietly(old);
      try {
        await this.bringUp('runtime', e);
      } catch (err) {
        this.phaseValue = 'failed';
        this.alert({ id: 'index-recovery-failed', severity: 'critical', message: `automatic recovery failed: ${(err as Error).message}` });
        return;
      }
      if (this.phaseValue === 'recovering') this.phaseValue = 'serving';
      await this.startCurrent();
    });
    this.busy = run.catch(() => {});
    return run;
  }

  private async startCurrent(): Promise<void> {
    const svc = this.current;
    if (!svc || !this.started) return;
    await svc.start();
    for (const l of this.replaceListeners) {
      try {
        l(svc);
      } catch (e) {
        this.o.log.warn('a service-replaced listener failed', { error: e });
      }
    }
    if (this.recovery && this.phaseValue !== 'serving') this.afterReconcile(Date.parse(this.recovery.at));
  }

  // ── serving ─────────────────────────────────────────────────────────────────────────────────

  /** Starts the service (first reconcile, watcher), the backup schedule and the file check. */
  private async start(): Promise<void> {
    this.started = true;
    await this.startCurrent();
    const s = this.settings;
    this.scheduler = new BackupScheduler({
      enabled: s.enabled,
      hour: s.hour,
      now: this.now,
      timers: this.timers,
      run: async (reason) => {
        if (reason === 'catch-up' && (this.current?.ctx.store.counts().indexed ?? 0) === 0) return;
        await this.create(reason);
      },
      lastBackupAt: () => {
        const v = verifiedBackups(this.dir)[0];
        return v ? Date.parse(v.createdAt) : null;
      },
      log: this.o.log.child('backup'),
      catchUpDelayMs: this.o.catchUpDelayMs,
    });
    this.scheduler.start();
    const every = this.o.fileCheckMs ?? 10_000;
    this.fileTimer = setInterval(() => this.checkFile(), every);
    this.fileTimer.unref();
  }

  /** An index file deleted or replaced under the running service is damage too. */
  checkFile(): void {
    if (this.phaseValue !== 'serving' && this.phaseValue !== 'reconciling' && this.phaseValue !== 'rebuilding') return;
    let ino: number | null = null;
    try {
      ino = fs.statSync(indexFile(this.o.dataDir)).ino;
    } catch {
      ino = null;
    }
    if (this.ino !== null && ino !== this.ino) {
      this.reportCorruption(owletError('OWL_ERR_DB_CORRUPT', { reason: ino === null ? 'the index file was deleted while in use' : 'the index file was replaced while in use' }));
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.backupsAbort.abort();
    if (this.pendingRecovery) clearImmediate(this.pendingRecovery);
    if (this.fileTimer) clearInterval(this.fileTimer);
    await this.busy;
    // A running backup finishes in its worker (its read does not block the close below).
    void this.scheduler?.stop();
    await this.current?.stop();
  }

  /** A status for the moment between two services when none was asked for before. */
  private placeholderStatus(): StatusReport {
    return {
      version: VERSION,
      state: 'degraded',
      ready: false,
      paused: false,
      pausedBecause: [],
      dataDir: this.o.dataDir,
      progress: { phase: 'idle', scanned: 0, queued: 0, done: 0, startedAt: null, finishedAt: null },
      counts: { indexed: 0, skipped: 0, failed: 0, bytes: 0, textBytes: 0 },
      roots: [],
      watcher: { mode: 'off', message: null },
      degraded: [],
      database: { bytes: 0, walBytes: 0, schemaVersion: 0 },
      uptimeMs: 0,
      resilience: { breakers: [], retryQueue: 0, quarantined: 0, deferred: 0, pool: { workers: 0, busy: 0, queued: 0, restarts: 0, timeouts: 0, crashes: 0, memoryKills: 0, recycled: 0 } },
    };
  }

  private augment(s: StatusReport): StatusReport {
    const extra: StatusReport['degraded'] = [];
    const p = s.progress;
    if (this.phaseValue === 'reconciling' && this.recovery)
      extra.push({ component: 'index-recovery', message: `restored from backup ${this.recovery.backupId} after damage; indexing changes made since (${p.done} files checked)` });
    if (this.phaseValue === 'rebuilding')
      extra.push({ component: 'index-recovery', message: `the index was damaged and no backup was usable; rebuilding it from your folders: ${p.done} of ${p.done + p.queued} files done, ${p.scanned} found so far` });
    if (this.phaseValue === 'failed') extra.push({ component: 'index-recovery', message: 'automatic recovery of the damaged index stopped; check the disk and the log, then restart Owlet' });
    const st = readState(this.o.dataDir);
    if (st.lastSkip) extra.push({ component: 'backup', message: st.lastSkip.message });
    if (st.lastFailure) extra.push({ component: 'backup', message: `the last backup failed: ${st.lastFailure.message}` });
    if (extra.length === 0) return s;
    return { ...s, state: s.state === 'starting' ? s.state : 'degraded', degraded: [...s.degraded, ...extra] };
  }

  /**
   * The stable face of the current service. Calls go to whichever OwletService is current;
   * start/stop/status are the guardian's (they also run the schedule and add recovery state).
   */
  private facade(): OwletService {
    const g = this;
    const special: Record<string, unknown> = {
      start: () => g.start(),
      stop: () => g.stop(),
      status: () => {
        if (g.current) return g.augment((g.lastStatus = g.current.status()));
        // Never throws (the host's heartbeat asks for it): the last known status, marked as recovering.
        const s = g.augment(g.lastStatus ?? g.placeholderStatus());
        return { ...s, ready: false, state: 'degraded', degraded: [...s.degraded, { component: 'index-recovery', message: 'the index was damaged and is being recovered; search answers again in a moment' }] };
      },
      isReady: () => g.current?.isReady() ?? false,
      backups: g,
    };
    return new Proxy({} as OwletService, {
      get(_t, prop) {
        if (typeof prop === 'string' && prop in special) return special[prop];
        if (prop === 'then') return undefined;
        const cur = g.svc;
        const v = Reflect.get(cur, prop, cur) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(cur) : v;
      },
      set(_t, prop, value) {
        return Reflect.set(g.svc, prop, value);
      },
      has(_t, prop) {
        return (typeof prop === 'string' && prop in special) || (g.current !== null && prop in g.current);
      },
    });
  }

  /**
   * The periodic full integrity check (scheduled by monitoring, run in a worker thread): a check
   * that finds damage starts recovery. Pass as MonitoringOptions.integrity.
   */
  async checkIntegrity(file: string, key: Buffer | null): Promise<IntegrityResult> {
    const r = await integrityCheckInWorker(file, { key });
    if (!r.ok && !r.inconclusive) this.reportCorruption(owletError('OWL_ERR_DB_CORRUPT', { reason: `the periodic integrity check found damage: ${r.message}` }));
    return r;
  }

  // ── BackupApi ───────────────────────────────────────────────────────────────────────────────

  /** For monitoring's health check and alert rules (BackupInfo). */
  backupInfo(): { lastVerifiedAt: number | null; destination: string; lastSkippedAt: number | null } {
    const v = verifiedBackups(this.dir)[0];
    const lastVerifiedAt = v?.verification ? Date.parse(v.verification.at) : null;
    const skip = readState(this.o.dataDir).lastSkip;
    const skippedAt = skip ? Date.parse(skip.at) : null;
    // A skip matters until a later backup succeeds: that is what raises and clears the alert.
    const lastSkippedAt = skippedAt !== null && (lastVerifiedAt === null || skippedAt > lastVerifiedAt) ? skippedAt : null;
    return { lastVerifiedAt, destination: this.dir, lastSkippedAt };
  }

  list(): BackupListing {
    return listing(this.o.dataDir, this.settings, this.phaseValue, this.scheduler?.nextAt ?? null);
  }

  create(reason: BackupReason = 'manual'): Promise<CreateOutcome> {
    if (this.phaseValue === 'recovering' || !this.current) return Promise.reject(owletError('OWL_ERR_BACKUP_BUSY', { reason: 'the index is being recovered; back up when it is done' }));
    const svc = this.current;
    return createBackup(
      {
        dataDir: this.o.dataDir,
        settings: this.settings,
        key: svc.ctx.key ?? null,
        log: this.o.log.child('backup'),
        now: this.now,
        space: this.o.space,
        audit: this.audit(),
        onAlert: (a) => this.alert(a),
        level: this.o.level,
        signal: this.backupsAbort.signal,
      },
      reason,
    ).catch((e) => {
      // A copy that hit a damaged page is damage of the live index, found by the backup.
      if (isCorruptionError(e)) this.reportCorruption(e);
      throw e;
    });
  }

  async verify(id?: string): Promise<{ id: string; verification: Verification }[]> {
    const ids = id ? [id] : listBackups(this.dir).map((b) => b.manifest.id);
    if (id && !readManifest(this.dir, id)) throw owletError('OWL_ERR_BACKUP_NOT_FOUND', { id, dir: this.dir });
    const out: { id: string; verification: Verification }[] = [];
    for (const x of ids) out.push({ id: x, verification: await verifyBackup(this.dir, x, this.keys(), this.now) });
    return out;
  }

  /**
   * Restores a backup under the running service (the only way to restore while it runs): the
   * backup is unpacked and checked while the current index keeps serving, then the service is
   * swapped. The previous file is kept in recovery/; if the restored one does not open and count
   * right, the previous one goes back.
   */
  async restore(id: string): Promise<RestoreResult> {
    const run = (this.busy ?? Promise.resolve()).then(async () => {
      if (!readManifest(this.dir, id)) throw owletError('OWL_ERR_BACKUP_NOT_FOUND', { id, dir: this.dir });
      const staged = await stageRestore(this.o.dataDir, this.dir, id, this.keys());
      const t0 = this.now();
      this.phaseValue = 'recovering';
      const old = this.current;
      this.current = null;
      await this.stopQuietly(old);
      const aside = swapIn(this.o.dataDir, staged.staged, 'pre-restore', this.now());
      let svc: OwletService;
      try {
        svc = this.createService();
        const d = diagnose(svc.ctx.db);
        const n = (svc.ctx.db.prepare('SELECT count(*) AS n FROM documents').get() as { n: number }).n;
        if (d.kind !== 'ok' || n !== staged.manifest.documentCount) {
          await this.stopQuietly(svc);
          throw owletError('OWL_ERR_BACKUP_INVALID', { reason: `the restored index ${d.kind !== 'ok' ? 'is damaged' : `holds ${n} documents, the backup ${staged.manifest.documentCount}`}; the previous index is back` });
        }
      } catch (e) {
        putBack(this.o.dataDir, aside);
        this.current = this.createService();
        this.phaseValue = 'serving';
        await this.startCurrent();
        throw e;
      }
      this.current = svc;
      const rec: RecoveryRecord = { at: new Date(t0).toISOString(), trigger: 'restore requested', action: 'restored', backupId: id, quarantined: aside ? path.relative(this.o.dataDir, aside) : null, problems: [], readyMs: this.now() - t0, reconciledMs: null };
      this.recovery = rec;
      updateState(this.o.dataDir, { lastRecovery: rec });
      this.phaseValue = 'reconciling';
      this.audit()?.append('backup.restored', { id, reason: 'requested', documents: staged.manifest.documentCount, setAside: rec.quarantined });
      this.o.log.info('backup restored', { id, setAside: rec.quarantined });
      await this.startCurrent();
      return { id, documents: staged.manifest.documentCount, setAside: aside };
    });
    this.busy = run.catch(() => {});
    return run;
  }
}
