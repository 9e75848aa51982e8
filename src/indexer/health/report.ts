import { HEALTH_COLOURS, worstStatus, type HealthCheck, type HealthReport } from '../../shared/health.js';
import { checkRunbook } from '../../shared/runbooks.js';
import { SCHEMA_VERSION } from '../store/migrations.js';
import { databaseFiles, searchProbe } from '../store/stats.js';
import type { IntegrityRecord } from '../store/metrics-db.js';
import type { IndexService } from '../service/index-service.js';
import { allChecks, type BackupInfo, type HealthInputs, type PoolHealth } from './checks.js';

export function reportOf(checks: HealthCheck[], now: number): HealthReport {
  const status = worstStatus(checks.map((c) => c.status));
  return { status, colour: HEALTH_COLOURS[status], checkedAt: new Date(now).toISOString(), checks: withRunbooks(checks) };
}

/** Each check names its runbook (docs/operations/runbooks/doctor/<id prefix>.md). */
export function withRunbooks<C extends HealthCheck>(checks: C[]): C[] {
  return checks.map((c) => ({ ...c, runbook: checkRunbook(c.id) }));
}

export function healthReport(inputs: HealthInputs): HealthReport {
  return reportOf(allChecks(inputs), inputs.now);
}

export { searchProbe };

export interface Readiness {
  ready: boolean;
  /** Why not, for the 503 body. */
  reasons: string[];
}

/** /health/ready: the database is open, its schema is current, and a search runs (store/stats.ts servingProblems). */
export function readiness(reasons: string[]): Readiness {
  return { ready: reasons.length === 0, reasons };
}

/** What the service knows beyond its own objects: measured or remembered by monitoring. */
export interface HealthExtras {
  now: number;
  space: { free: number; total: number } | null;
  integrity: IntegrityRecord | null;
  integrityCheckHours: number;
  pool: Pick<PoolHealth, 'recentFailures'>;
  /** When each breaker last left the closed state (breakers flap open → half-open → open). */
  notClosedSince: ReadonlyMap<string, number>;
  backup: BackupInfo | null | undefined;
  uncleanRestarts1h: number | null;
}

/** Snapshot of a running service for the checks. Cheap: no scan of the documents table. Throws OWL_ERR_NOT_READY mid-recovery. */
export function gatherHealthInputs(service: IndexService, x: HealthExtras): HealthInputs {
  const c = service.current();
  if (!c.ok) throw c.error;
  const svc = c.service;
  const files = databaseFiles(service.dataDir);
  let version: number | null = null;
  let error: string | undefined;
  let roots: HealthInputs['roots'] = [];
  const open = svc.isReady();
  if (open) {
    try {
      version = svc.schemaVersion();
      roots = svc.roots().map((r) => ({ path: r.path, state: r.state, lastScanAt: r.lastScanAt }));
    } catch (e) {
      error = (e as Error).message;
    }
  }
  const pool = svc.pool.stats();
  const serving = open ? svc.servingProblems() : [];
  const searchFails = serving.find((r) => r.startsWith('search fails: '));
  return {
    now: x.now,
    ready: svc.isReady(),
    database: { open: open && !error, schemaVersion: version, expectedSchemaVersion: SCHEMA_VERSION, bytes: files.bytes, walBytes: files.walBytes, ...(error ? { error } : {}) },
    search: !open ? { ok: false, message: 'database not open' } : searchFails ? { ok: false, message: searchFails.slice('search fails: '.length) } : { ok: true },
    integrity: x.integrity,
    integrityCheckHours: x.integrityCheckHours,
    space: x.space,
    diskFullMessage: svc.disk?.message ?? null,
    watcher: svc.watcher ? { mode: svc.watcher.mode, message: svc.watcher.message ?? null } : null,
    pool: { workers: pool.workers, busy: pool.busy, queued: pool.queued, recentFailures: x.pool.recentFailures },
    roots,
    breakers: svc.breakers.snapshot().map((b) => ({ name: b.name, state: b.state, notClosedSince: x.notClosedSince.get(b.name) ?? b.openedAt })),
    pausedBecause: svc.indexer.pausedBecause,
    backup: x.backup,
    uncleanRestarts1h: x.uncleanRestarts1h,
  };
}
