/**
 * `owlet doctor`: every health check that can be made from outside the service (and the live
 * service's own report when one runs), plus configuration, data-directory permissions, a full
 * `PRAGMA integrity_check`, and the consistency of the full-text index with the stored documents.
 * Each finding says what to do; `--fix` applies the remedies that cannot lose data:
 *
 *   chmod the data directory to 0700 · remove a stale service.json left by a crashed service ·
 *   rebuild the full-text index from the stored (compressed) text · move an unreadable metrics.db
 *   aside · rescan a root that is marked offline but reachable, or was never fully scanned
 *
 * and then checks again, so the report shows the state after the fixes.
 *
 * The checks are one module each in doctor/checks/ (their order in doctor/checks/index.ts); the
 * runner is doctor/run.ts. This file keeps the imports callers already use.
 */
export { runDoctor } from './doctor/run.js';
export { updatesFinding } from './doctor/checks/updates.js';
export type { DoctorAction, DoctorCheck, DoctorDeps, DoctorFinding, DoctorReport } from './doctor/types.js';
// Re-exported for callers that import it from the doctor; the SQL lives in store/.
export { ftsConsistency } from '../store/stats.js';
