import fs from 'node:fs';
import path from 'node:path';
import { HEALTH_COLOURS, worstStatus, type HealthCheck, type HealthReport } from '../../shared/health.js';
import type { Db } from '../store/db.js';
import { SCHEMA_VERSION, schemaVersion } from '../store/migrations.js';
import { ftsProbe } from '../store/fts-check.js';
import type { IntegrityRecord } from '../metrics/metrics-db.js';
import type { OwletService } from '../service/service.js';
import { INDEX_FILE } from '../service/context.js';
import { allChecks, type BackupInfo, type HealthInputs, type PoolHealth } from './checks.js';

export function reportOf(checks: HealthCheck[], now: number): HealthReport {
  const status = worstStatus(checks.map((c) => c.status));
  return { status, colour: HEALTH_COLOURS[status], checkedAt: new Date(now).toISOString(), checks };
}

export function healthReport(inputs: HealthInputs): HealthReport {
  return reportOf(allChecks(inputs), inputs.now);
}

function fileSize(f: string): number {
  try {
    return fs.statSync(f).size;
  } catch {
    return 0;
  }
}

/** A real (tiny) full-text query (store/fts-check.ts): proves the FTS index answers, not only that the file is open. */
export const searchProbe = ftsProbe;

export interface Readiness {
  ready: boolean;
  /** Why not, for the 503 body. */
  reasons: string[];
}

/** /health/ready: the database is open, its schema is current, and a search runs. */
export function readiness(isReady: boolean, db: Db): Readiness {
  const reasons: string[] = [];
  if (!isReady || !db.open) reasons.push('the index database is not open');
  else {
    const v = schemaVersion(db);
    if (v !== SCHEMA_VERSION) reasons.push(`the index schema is ${v}, expected ${SCHEMA_VERSION}`);
    const s = searchProbe(db);
    if (!s.ok) reasons.push(`search fails: ${s.message}`);
  }
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

/** Snapshot of a running service for the checks. Cheap: no scan of the documents table. */
export function gatherHealthInputs(service: OwletService, x: HealthExtras): HealthInputs {
  const { db, store, dataDir } = service.ctx;
  const file = path.join(dataDir, INDEX_FILE);
  let version: number | null = null;
  let error: string | undefined;
  let roots: HealthInputs['roots'] = [];
  const open = service.isReady() && db.open;
  if (open) {
    try {
      version = schemaVersion(db);
      roots = store.roots().map((r) => ({ path: r.path, state: r.state, lastScanAt: r.lastScanAt }));
    } catch (e) {
      error = (e as Error).message;
    }
  }
  const pool = service.pool.stats();
  return {
    now: x.now,
    ready: service.isReady(),
    database: { open: open && !error, schemaVersion: version, expectedSchemaVersion: SCHEMA_VERSION, bytes: fileSize(file), walBytes: fileSize(file + '-wal'), ...(error ? { error } : {}) },
    search: open ? searchProbe(db) : { ok: false, message: 'database not open' },
    integrity: x.integrity,
    integrityCheckHours: x.integrityCheckHours,
    space: x.space,
    diskFullMessage: service.disk?.message ?? null,
    watcher: service.watcher ? { mode: service.watcher.mode, message: service.watcher.message ?? null } : null,
    pool: { workers: pool.workers, busy: pool.busy, queued: pool.queued, recentFailures: x.pool.recentFailures },
    roots,
    breakers: service.breakers.snapshot().map((b) => ({ name: b.name, state: b.state, notClosedSince: x.notClosedSince.get(b.name) ?? b.openedAt })),
    pausedBecause: service.indexer.pausedBecause,
    backup: x.backup,
    uncleanRestarts1h: x.uncleanRestarts1h,
  };
}
