import fs from 'node:fs';
import path from 'node:path';
import { isOwletError, owletError } from '../../shared/errors.js';
import type { AuditLog } from '../audit/types.js';
import { diagnose, isCorruptionError, type Diagnosis } from '../store/damage.js';
import { keyId, listBackups, readManifest, writeManifest } from '../backup/manifest.js';
import { keyFor } from '../backup/keys.js';
import { backupDir, indexFile, sideFiles } from '../backup/paths.js';
import { copyAndRebuild, repairFtsInPlace } from '../backup/repair.js';
import { putBack, setAside, stageRestore, swapIn, verifiedBackups, type RestoreResult } from '../backup/restore.js';
import type { BackupConfig } from '../config/backup-settings.js';
import { openWithKeys, type RawDb } from '../backup/sqlite.js';
import { readState, updateState, type RecoveryRecord } from '../backup/state.js';
import type { Logger } from '../log/logger.js';
import { fileHeaderIsPlain } from '../security/cipher.js';
import { discoverKeys } from '../store/key-discovery.js';
import type { SecretStore } from '../security/secret-store.js';
import type { ServiceHost } from '../service/host.js';
import type { StatusNote } from '../service/index-service.js';
import type { OwletService } from '../service/service.js';
import type { StatusReport } from '../../shared/api.js';
import { damagedOnDisk, MAX_RECOVERIES, RECOVERY_WINDOW_MS, type GuardianAlert, type GuardianPhase, type Outcome } from './plan.js';

/**
 * The IndexGuardian keeps the index usable: it checks it at start (`PRAGMA quick_check`), hears
 * about SQLITE_CORRUPT / SQLITE_NOTADB wherever they surface (the host's onDidDetectCorruption),
 * about a failed periodic integrity check (recovery/integrity-schedule.ts) and about an index
 * file that vanished, and repairs:
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
 * The guardian never holds the service itself: the ServiceHost does, and the guardian asks it to
 * detach the damaged one and install the repaired one. Everyone else keeps holding the host.
 */

export interface GuardianOptions {
  host: ServiceHost;
  dataDir: string;
  log: Logger;
  now?: () => number;
  /** Where `backup.restored` is recorded (default: the current service's audit log). */
  audit?: AuditLog;
  /** Where alerts go; they are always logged too. */
  onAlert?: (a: GuardianAlert) => void;
  /** The secret store the service uses (default: the configured one), for keys of older backups. */
  secrets?: SecretStore;
  /** How often the guardian checks that index.db is still the file it opened. */
  fileCheckMs?: number;
  /** Asks for a full integrity check soon (the schedule's runNow); its verdict comes back through integrityPassed or reportCorruption. */
  verify?: () => void;
}

/** A pass after recovery that did not complete is tried again after this long. */
const IN_STEP_RETRY_MS = 30_000;

function settingsOf(svc: OwletService | null): BackupConfig | undefined {
  return (svc?.config as { backup?: BackupConfig } | undefined)?.backup;
}

export class IndexGuardian {
  private phaseValue: GuardianPhase = 'starting';
  private stopping = false;
  private busy: Promise<unknown> | null = null;
  private pendingRecovery: ReturnType<typeof setImmediate> | null = null;
  private recoveries: number[] = [];
  private lastSecrets: SecretStore | null = null;
  private lastSettings: BackupConfig | undefined;
  private ino: number | null = null;
  private fileTimer: NodeJS.Timeout | null = null;
  private recovery: RecoveryRecord | null = null;
  /** index-corrupt is up for damage this process found and has not repaired yet. */
  private corruptRaised = false;
  private readonly subscriptions: { dispose(): void }[] = [];
  private readonly now: () => number;
  private readonly host: ServiceHost;

  private constructor(private readonly o: GuardianOptions) {
    this.now = o.now ?? Date.now;
    this.host = o.host;
    this.subscriptions.push(
      this.host.onDidDetectCorruption((e) => this.reportCorruption(e)),
      this.host.addStatusSource((s) => this.statusNotes(s)),
    );
  }

  /** Checks (and if needed repairs) the index, then opens the first service on the host (not started). */
  static async open(o: GuardianOptions): Promise<IndexGuardian> {
    const g = new IndexGuardian(o);
    try {
      g.host.adopt(await g.bringUp('start', null));
    } catch (e) {
      g.dispose();
      throw e;
    }
    return g;
  }

  get phase(): GuardianPhase {
    return this.phaseValue;
  }

  get lastRecovery(): RecoveryRecord | null {
    return this.recovery;
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

  private get dir(): string {
    const c = this.host.current();
    if (c.ok) this.lastSettings = settingsOf(c.service);
    return backupDir(this.o.dataDir, this.lastSettings ?? null);
  }

  /** Raises an alert (logged, then handed to onAlert): backups raise theirs through here too. */
  raise(a: GuardianAlert): void {
    this.alert(a);
  }

  /**
   * The situation an event alert reported is over: it resolves (index-corrupt once the index is
   * repaired, index-recovered and index-rebuilding once it is back in step with the disk). Alerts
   * should say what is wrong now; what happened stays in the alert history and the recovery record.
   */
  private over(id: GuardianAlert['id'], why: string): void {
    this.o.log.info('alert over', { alert: id, why });
    this.deliver({ id, severity: 'info', message: why, over: true });
  }

  /** index-corrupt is over: the damage this process found is repaired or proved absent. */
  private corruptOver(why: string): void {
    this.corruptRaised = false;
    this.over('index-corrupt', why);
  }

  /** Both recovery notices: whichever recovery ran, the index is in step and nothing is left to catch up. */
  private recoveryNoticesOver(): void {
    this.over('index-recovered', 'the index is back in step with the disk');
    this.over('index-rebuilding', 'the index is back in step with the disk');
  }

  private alert(a: GuardianAlert): void {
    const log = a.severity === 'critical' ? this.o.log.error : a.severity === 'warning' ? this.o.log.warn : this.o.log.info;
    log.call(this.o.log, 'alert', { alert: a.id, severity: a.severity, message: a.message });
    this.deliver(a);
  }

  private deliver(a: GuardianAlert): void {
    try {
      this.o.onAlert?.(a);
    } catch (e) {
      this.o.log.warn('alert delivery failed', { error: e });
    }
  }

  private audit(): AuditLog | undefined {
    if (this.o.audit) return this.o.audit;
    const c = this.host.current();
    return c.ok ? c.service.audit : undefined;
  }

  /** Keys that may open this install's backups: the live key first, then the store's others. */
  keys(): Buffer[] {
    const c = this.host.current();
    const secrets = (c.ok ? c.service.secrets : null) ?? this.lastSecrets ?? this.o.secrets ?? null;
    return discoverKeys({
      dataDir: this.o.dataDir,
      live: this.host.indexKey(),
      secrets,
      // Opening the configured store only when something is encrypted (it may create files on a fresh folder).
      needed: () => fileHeaderIsPlain(indexFile(this.o.dataDir)) === false || listBackups(this.dir).some((b) => b.manifest.encrypted),
    });
  }

  // ── start-up and recovery ─────────────────────────────────────────────────────────────────

  private createService(): OwletService {
    const svc = this.host.open();
    this.lastSecrets = svc.secrets ?? this.lastSecrets;
    this.lastSettings = settingsOf(svc);
    try {
      this.ino = fs.statSync(indexFile(this.o.dataDir)).ino;
    } catch {
      this.ino = null;
    }
    return svc;
  }

  /**
   * Opens a service on a usable index: repairs what quick_check finds, restores the newest
   * verified backup when rows are damaged, starts empty when no backup is usable.
   */
  private async bringUp(trigger: string, error: unknown, mode: 'quick' | 'full' = 'quick'): Promise<OwletService> {
    const t0 = this.now();
    const file = indexFile(this.o.dataDir);
    let outcome: Outcome = null;
    const onDisk = damagedOnDisk(file);
    if (!fs.existsSync(file) && verifiedBackups(this.dir, this.keys()).length > 0) outcome = await this.restoreOrRebuild(['the index file is missing']);
    else if (onDisk) outcome = await this.restoreOrRebuild([onDisk]);
    // Checked on a connection of its own, before a service (with its worker processes) exists.
    for (let attempt = 0; attempt < 3 && fs.existsSync(file); attempt++) {
      const step = await this.inspect(file, trigger, attempt === 0 ? mode : 'quick');
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
    if (outcome) this.recorded(trigger, error, outcome, t0);
    else if (this.phaseValue === 'starting' || this.phaseValue === 'recovering') this.phaseValue = 'serving';
    return svc;
  }

  /**
   * quick_check on the index file and the repair its verdict calls for: 'ok', or what was done
   * (the caller checks again: a restored backup is inspected like any other file).
   */
  private async inspect(file: string, trigger: string, mode: 'quick' | 'full' = 'quick'): Promise<'ok' | NonNullable<Outcome>> {
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
      d = diagnose(db, mode);
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
      const newest = verifiedBackups(this.dir, this.keys())[0];
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
    // The damaged file stays in place while a backup is unpacked beside it, and is set aside only
    // by the swap (one rename): a standby serving from it keeps answering meanwhile, instead of
    // finding no index for the 7-13 s an unpack took under the chaos run's load.
    const keys = this.keys();
    for (const m of verifiedBackups(this.dir, this.keys())) {
      try {
        const staged = await stageRestore(this.o.dataDir, this.dir, m.id, keys);
        const quarantined = swapIn(this.o.dataDir, staged.staged, 'corrupt', this.now());
        return { action: 'restored', backupId: m.id, quarantined, problems };
      } catch (e) {
        this.o.log.error('backup unusable for recovery; trying an older one', { id: m.id, error: e });
        const cur = readManifest(this.dir, m.id);
        if (cur && isOwletError(e) && e.code === 'OWL_ERR_BACKUP_INVALID') {
          // Re-signed only with the key that signed it: a manifest no key of ours signs stays as it is.
          const signer = keyFor(keys, cur.keyId);
          if (cur.format === 1 || signer) writeManifest(this.dir, { ...cur, verification: { at: new Date(this.now()).toISOString(), ok: false, message: e.message, checksum: false, integrity: false, documents: false } }, signer);
        }
      }
    }
    const exists = fs.existsSync(file) || sideFiles(file).some((f) => fs.existsSync(f));
    const quarantined = exists ? setAside(this.o.dataDir, 'corrupt', this.now()) : null;
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
    // Damage found while opening (at start-up, or by the recovery itself) is damage found too.
    if (!this.corruptRaised) this.alert({ id: 'index-corrupt', severity: 'critical', message: `index damage found (${trigger}): ${out.problems.slice(0, 3).join('; ') || 'the index did not open'}` });
    this.corruptOver(`repaired: ${out.action}`);
    const what =
      out.action === 'restored'
        ? `the index was damaged and has been restored from backup ${out.backupId}; changes made since are being indexed again`
        : out.action === 'fts-rebuilt'
          ? 'the full-text index was damaged and has been rebuilt from the stored text'
          : 'the index was damaged and no usable backup exists; it is being rebuilt from your folders';
    const recoveredId = out.action === 'rebuilt-from-disk' ? 'index-rebuilding' : 'index-recovered';
    this.alert({ id: recoveredId, severity: 'warning', message: what });
    // Rebuilt from the stored text: nothing left to catch up with.
    if (this.phaseValue === 'serving') this.over(recoveredId, 'the index is in step with the disk');
    this.audit()?.append('backup.restored', { id: out.backupId, reason: 'corruption', action: out.action, quarantined: rec.quarantined });
    this.o.log.warn('index recovered', { action: out.action, backupId: out.backupId, quarantined: rec.quarantined, readyMs });
  }

  private afterReconcile(t0: number): void {
    const c = this.host.current();
    if (!c.ok || this.phaseValue === 'serving') return;
    const svc = c.service;
    this.whenInStep(svc, svc.scan(), () => {
      if (this.recovery) {
        this.recovery = { ...this.recovery, reconciledMs: this.now() - t0 };
        updateState(this.o.dataDir, { lastRecovery: this.recovery });
      }
      this.phaseValue = 'serving';
      this.o.log.info('index back in step with the disk after recovery', { reconciledMs: this.recovery?.reconciledMs });
      // Both: a restore overtaken by a rebuild (or the reverse) leaves nothing to catch up either.
      this.recoveryNoticesOver();
    });
  }

  /**
   * Calls `done` once a pass over the folders has completed on `svc`: one that failed (a full disk,
   * an I/O error) or was stopped is not "in step", and another is tried a little later.
   */
  private whenInStep(svc: OwletService, pass: Promise<boolean>, done: () => void): void {
    void pass.then((completed) => {
      const now = this.host.current();
      if (this.stopping || !now.ok || now.service !== svc) return;
      if (completed) return done();
      this.o.log.info('the pass after recovery did not complete; trying again shortly', { retryInMs: IN_STEP_RETRY_MS });
      const t = setTimeout(() => this.whenInStep(svc, svc.scan(), done), IN_STEP_RETRY_MS);
      t.unref();
    });
  }

  /**
   * Called for every SQLITE_CORRUPT/NOTADB seen on the live connection: recovery runs once, soon.
   * `full`: the damage was found by a full integrity_check (the schedule), which finds damage
   * quick_check does not (index entries that do not match their rows): the reopened file is
   * checked the same way, or it would pass and keep its damage.
   */
  reportCorruption(e: unknown, how: { full?: boolean } = {}): void {
    if (this.stopping || this.pendingRecovery || this.phaseValue === 'recovering' || this.phaseValue === 'failed') return;
    this.pendingRecovery = setImmediate(() => {
      this.pendingRecovery = null;
      void this.recoverNow(e, how.full ? 'full' : 'quick');
    });
  }

  /**
   * A full integrity check passed: damage reported earlier is not there (any more). The one way
   * index-corrupt ends when the damage was never found again on reopening.
   */
  integrityPassed(): void {
    if (this.corruptRaised) this.corruptOver('a full integrity check of the index passes');
  }

  /** Stops the damaged service, repairs or restores, and installs a new one on the host. */
  private recoverNow(e: unknown, mode: 'quick' | 'full' = 'quick'): Promise<unknown> {
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
      this.corruptRaised = true;
      this.phaseValue = 'recovering';
      // Read before the service goes: the backup folder is in its configuration.
      void this.dir;
      await this.host.detach();
      let svc: OwletService;
      try {
        svc = await this.bringUp('runtime', e, mode);
      } catch (err) {
        this.phaseValue = 'failed';
        this.alert({ id: 'index-recovery-failed', severity: 'critical', message: `automatic recovery failed: ${(err as Error).message}` });
        return;
      }
      if (this.phaseValue === 'recovering') this.phaseValue = 'serving';
      // The checks on reopening found nothing to repair (recorded() resolves it otherwise). A full
      // check says so with authority; after a quick one the alert stays until a full check passes,
      // asked for now.
      if (this.corruptRaised && mode === 'full') this.corruptOver('the index passes a full integrity check on reopening');
      else if (this.corruptRaised) {
        this.o.log.warn('no damage found on reopening after a corruption error; a full integrity check decides', {});
        this.o.verify?.();
      }
      await this.installed(svc);
    });
    this.busy = run.catch(() => {});
    return run;
  }

  private async installed(svc: OwletService): Promise<void> {
    await this.host.install(svc);
    if (this.host.running) this.afterStart();
  }

  /** After the host started the service: the reconcile a recovery needs, and the file check. */
  private afterStart(): void {
    if (this.recovery && this.phaseValue !== 'serving') this.afterReconcile(Date.parse(this.recovery.at));
  }

  /** Starts the file check (and the reconcile a start-up recovery needs). Call after host.start(). */
  start(): void {
    this.afterStart();
    if (!this.recovery) this.clearStale();
    const every = this.o.fileCheckMs ?? 10_000;
    this.fileTimer = setInterval(() => this.checkFile(), every);
    this.fileTimer.unref();
  }

  /**
   * A start that found the index sound: recovery alerts a previous process left up (it was
   * stopped before it could resolve them) are over: index-corrupt at once, since the index just
   * passed its checks; index-recovered and index-rebuilding once this start's scan has brought
   * the index in step with the disk.
   */
  private clearStale(): void {
    this.over('index-corrupt', 'the index checked clean at start-up');
    const c = this.host.current();
    if (!c.ok) return;
    const svc = c.service;
    this.whenInStep(svc, svc.scanned(), () => {
      if (!this.recovery) this.recoveryNoticesOver();
    });
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

  /** Stops watching and waits for a running recovery or restore; the host stops the service. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.pendingRecovery) clearImmediate(this.pendingRecovery);
    this.pendingRecovery = null;
    if (this.fileTimer) clearInterval(this.fileTimer);
    await this.busy;
    this.dispose();
  }

  private dispose(): void {
    for (const s of this.subscriptions.splice(0)) s.dispose();
  }

  /** What the status says about recovery and the last backup problems. */
  private statusNotes(s: StatusReport): StatusNote[] {
    const extra: StatusNote[] = [];
    const p = s.progress;
    if (this.phaseValue === 'reconciling' && this.recovery)
      extra.push({ component: 'index-recovery', message: `restored from backup ${this.recovery.backupId} after damage; indexing changes made since (${p.done} files checked)` });
    if (this.phaseValue === 'rebuilding')
      extra.push({ component: 'index-recovery', message: `the index was damaged and no backup was usable; rebuilding it from your folders: ${p.done} of ${p.done + p.queued} files done, ${p.scanned} found so far` });
    if (this.phaseValue === 'failed') extra.push({ component: 'index-recovery', message: 'automatic recovery of the damaged index stopped; check the disk and the log, then restart Owlet' });
    const st = readState(this.o.dataDir);
    if (st.lastSkip) extra.push({ component: 'backup', message: st.lastSkip.message });
    if (st.lastFailure) extra.push({ component: 'backup', message: `the last backup failed: ${st.lastFailure.message}` });
    return extra;
  }

  /**
   * Restores a backup under the running service (the only way to restore while it runs): the
   * backup is unpacked and checked while the current index keeps serving, then the service is
   * swapped. The previous file is kept in recovery/; if the restored one does not open and count
   * right, the previous one goes back.
   */
  async restore(id: string): Promise<RestoreResult> {
    const run = (this.busy ?? Promise.resolve()).then(async () => {
      const dir = this.dir;
      if (!readManifest(dir, id)) throw owletError('OWL_ERR_BACKUP_NOT_FOUND', { id, dir });
      const staged = await stageRestore(this.o.dataDir, dir, id, this.keys());
      const t0 = this.now();
      this.phaseValue = 'recovering';
      const audit = this.audit();
      await this.host.detach('a backup is being restored; try again in a moment');
      const aside = swapIn(this.o.dataDir, staged.staged, 'pre-restore', this.now());
      let svc: OwletService;
      try {
        svc = this.createService();
        const problem = svc.check(staged.manifest.documentCount);
        if (problem) {
          await this.host.stopQuietly(svc);
          throw owletError('OWL_ERR_BACKUP_INVALID', { reason: `the restored index ${problem}; the previous index is back` });
        }
      } catch (e) {
        putBack(this.o.dataDir, aside);
        const back = this.createService();
        this.phaseValue = 'serving';
        await this.installed(back);
        throw e;
      }
      const rec: RecoveryRecord = { at: new Date(t0).toISOString(), trigger: 'restore requested', action: 'restored', backupId: id, quarantined: aside ? path.relative(this.o.dataDir, aside) : null, problems: [], readyMs: this.now() - t0, reconciledMs: null };
      this.recovery = rec;
      updateState(this.o.dataDir, { lastRecovery: rec });
      this.phaseValue = 'reconciling';
      audit?.append('backup.restored', { id, reason: 'requested', documents: staged.manifest.documentCount, setAside: rec.quarantined });
      this.o.log.info('backup restored', { id, setAside: rec.quarantined });
      await this.installed(svc);
      return { id, documents: staged.manifest.documentCount, setAside: aside };
    });
    this.busy = run.catch(() => {});
    return run;
  }
}
