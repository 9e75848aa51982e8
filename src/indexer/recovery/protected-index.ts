import type { AuditLog } from '../audit/types.js';
import { ServiceBackups } from '../backup/service-backups.js';
import type { Timers } from '../backup/scheduler.js';
import type { Logger } from '../log/logger.js';
import type { SpaceProbe } from '../resilience/disk-space.js';
import type { SecretStore } from '../security/secret-store.js';
import { ServiceHost } from '../service/host.js';
import type { OwletService } from '../service/service.js';
import { IndexGuardian } from './guardian.js';
import { IntegritySchedule, type IntegrityCheck } from './integrity-schedule.js';
import type { GuardianAlert } from './plan.js';

export interface ProtectedIndexOptions {
  dataDir: string;
  log: Logger;
  /** Builds a service; `hooks.onCorrupt` must reach openIndex (ServiceOptions.onCorrupt). */
  create: (hooks: { onCorrupt: (e: unknown) => void }) => OwletService;
  now?: () => number;
  timers?: Timers;
  space?: SpaceProbe;
  audit?: AuditLog;
  onAlert?: (a: GuardianAlert) => void;
  secrets?: SecretStore;
  fileCheckMs?: number;
  catchUpDelayMs?: number;
  level?: number;
  /** The periodic integrity check (tests inject a fake or a short first delay). */
  integrity?: { check?: IntegrityCheck; minDelayMs?: number; hours?: number };
}

/**
 * The index as the long-running service holds it: the host with its current service, the
 * guardian that checks and repairs it, the backups and their schedule, and the periodic
 * integrity check. One composition, used by `serve` (and by tests that need the real thing
 * without HTTP). Callers use `service` (an IndexService) and `backups` (a BackupApi).
 */
export class ProtectedIndex {
  private constructor(
    readonly host: ServiceHost,
    readonly guardian: IndexGuardian,
    readonly backups: ServiceBackups,
    readonly integrity: IntegritySchedule,
  ) {}

  static async open(o: ProtectedIndexOptions): Promise<ProtectedIndex> {
    const host = new ServiceHost({ dataDir: o.dataDir, log: o.log, create: o.create });
    // Bumped whenever the index file is taken away or replaced: the integrity check drops verdicts
    // on a file that was replaced while it ran.
    let generation = 0;
    host.onDidDetach(() => generation++);
    host.onDidSwap(() => generation++);
    // The schedule is made after the guardian (it needs the guardian's repairs); the guardian asks it for checks.
    let integrity: IntegritySchedule | null = null;
    const verify = () => void integrity?.runNow().catch((e) => o.log.warn('integrity check failed to run', { error: e }));
    const guardian = await IndexGuardian.open({ host, dataDir: o.dataDir, log: o.log, now: o.now, audit: o.audit, onAlert: o.onAlert, secrets: o.secrets, fileCheckMs: o.fileCheckMs, verify });
    const backups = new ServiceBackups({
      service: host,
      dataDir: o.dataDir,
      log: o.log.child('backup'),
      phase: () => guardian.phase,
      restore: (id) => guardian.restore(id),
      keys: () => guardian.keys(),
      onDamage: (e) => guardian.reportCorruption(e),
      onAlert: (a) => guardian.raise(a),
      audit: () => o.audit,
      now: o.now,
      timers: o.timers,
      space: o.space,
      catchUpDelayMs: o.catchUpDelayMs,
      level: o.level,
    });
    integrity = new IntegritySchedule({
      dataDir: o.dataDir,
      hours: o.integrity?.hours ?? host.config.monitoring.integrityCheckHours,
      key: () => host.indexKey(),
      onDamage: (e) => guardian.reportCorruption(e, { full: true }),
      log: o.log.child('integrity'),
      check: o.integrity?.check,
      now: o.now,
      minDelayMs: o.integrity?.minDelayMs,
      generation: () => generation,
    });
    integrity.onDidCheck((r) => {
      if (r.ok) guardian.integrityPassed();
    });
    return new ProtectedIndex(host, guardian, backups, integrity);
  }

  /** The service as callers see it: stable across recoveries and restores. */
  get service(): ServiceHost {
    return this.host;
  }

  /** Starts the service (first reconcile, watcher), the file check, the backup schedule and the integrity check. */
  async start(): Promise<void> {
    await this.host.start();
    this.guardian.start();
    this.backups.start();
    this.integrity.start();
  }

  async stop(): Promise<void> {
    this.backups.stop();
    await this.integrity.stop();
    await this.guardian.stop();
    await this.host.stop();
  }
}
