import type { HealthCheck } from '../../shared/health.js';
import type { IntegrityRecord } from '../store/metrics-db.js';
import { resumeThreshold } from '../resilience/disk-space.js';

/**
 * One check per dependency, as pure functions of a snapshot (`HealthInputs`), so every verdict
 * is tested without arranging a real fault, and the same code serves the HTTP report, alerting
 * and `owlet doctor`. Each check says what it found and, when not ok, what to do.
 */

export interface PoolHealth {
  workers: number;
  busy: number;
  queued: number;
  /** Worker deaths (crash, timeout kill, memory kill) in the last 10 minutes. */
  recentFailures: number;
  /** Workers that failed to start in a row (the pool gives up after a few). */
  startFailures?: number;
}

export interface BackupInfo {
  /** When the last backup that was verified completed (ms), or null if none yet. */
  lastVerifiedAt: number | null;
  /** Where backups go, for the message. */
  destination?: string;
  /** When the newest backup attempt was skipped for lack of space and none succeeded since (ms). */
  lastSkippedAt?: number | null;
}

export interface HealthInputs {
  now: number;
  /** The index database is open and the service finished starting. */
  ready: boolean;
  database: { open: boolean; schemaVersion: number | null; expectedSchemaVersion: number; bytes: number; walBytes: number; error?: string };
  /** A trivial full-text query ran (the FTS index is usable). */
  search: { ok: boolean; message?: string };
  integrity: IntegrityRecord | null;
  integrityCheckHours: number;
  space: { free: number; total: number } | null;
  /** Set by the disk-space guard while indexing is paused on a full volume. */
  diskFullMessage: string | null;
  /** null when this process does not watch (one-shot commands). */
  watcher: { mode: 'events' | 'polling' | 'off'; message: string | null } | null;
  pool: PoolHealth | null;
  roots: { path: string; state: 'online' | 'offline'; lastScanAt: number | null }[];
  breakers: { name: string; state: 'closed' | 'open' | 'half-open'; notClosedSince: number | null }[];
  pausedBecause: string[];
  /** undefined: this build has no backup feature; null: it has, but reported nothing. */
  backup: BackupInfo | null | undefined;
  /** Unclean service restarts in the last hour (null when not tracked: monitoring off). */
  uncleanRestarts1h: number | null;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
export const DISK_DEGRADED_BYTES = 1 * GiB;
export const DISK_DEGRADED_RATIO = 0.05;
export const BACKUP_DEGRADED_HOURS = 48;
export const BACKUP_FAILED_HOURS = 7 * 24;

function fmtBytes(n: number): string {
  if (n >= GiB) return `${(n / GiB).toFixed(1)} GB`;
  if (n >= MiB) return `${(n / MiB).toFixed(n >= 100 * MiB ? 0 : 1)} MB`;
  return `${Math.ceil(n / 1024)} KB`;
}

function fmtAge(ms: number): string {
  const m = Math.round(ms / 60_000);
  if (m < 120) return `${m} min`;
  const h = Math.round(m / 60);
  return h < 72 ? `${h} h` : `${Math.round(h / 24)} days`;
}

export function checkDatabase(i: HealthInputs): HealthCheck {
  const d = i.database;
  const base = { id: 'database', name: 'Index database' };
  if (!d.open) return { ...base, status: 'failed', message: `the index database is not open${d.error ? `: ${d.error}` : ''}`, remedy: 'restart Owlet; if it keeps failing run "owlet doctor"' };
  if (d.schemaVersion !== d.expectedSchemaVersion)
    return {
      ...base,
      status: 'failed',
      message: `the index schema is version ${d.schemaVersion ?? 'unknown'}, this Owlet expects ${d.expectedSchemaVersion}`,
      remedy: (d.schemaVersion ?? 0) > d.expectedSchemaVersion ? 'update Owlet, or restore a backup made by this version' : 'restart Owlet to migrate the index',
    };
  if (!i.search.ok) return { ...base, status: 'failed', message: `searching the index fails: ${i.search.message ?? 'unknown error'}`, remedy: 'run "owlet doctor --fix" to rebuild the full-text index' };
  return { ...base, status: 'ok', message: `open, schema ${d.schemaVersion}, ${fmtBytes(d.bytes)} (+${fmtBytes(d.walBytes)} log), searchable` };
}

export function checkIntegrity(i: HealthInputs): HealthCheck {
  const base = { id: 'integrity', name: 'Last integrity check' };
  const r = i.integrity;
  if (!r) return { ...base, status: 'ok', message: i.integrityCheckHours > 0 ? 'not checked yet; the service checks in the background' : 'never checked (background checks are off)' };
  const age = `${fmtAge(i.now - r.at)} ago`;
  if (!r.ok) return { ...base, status: 'failed', message: `the check ${age} found damage: ${r.message}`, remedy: 'run "owlet doctor --fix"; if damage remains, restore a backup' };
  if (i.integrityCheckHours > 0 && i.now - r.at > 3 * i.integrityCheckHours * 3_600_000)
    return { ...base, status: 'degraded', message: `passed, but ${age}; background checks are not running`, remedy: 'run "owlet doctor" to check now' };
  return { ...base, status: 'ok', message: `passed ${age} (${r.by})` };
}

export function checkDisk(i: HealthInputs): HealthCheck {
  const base = { id: 'disk', name: 'Disk space (data volume)' };
  if (i.diskFullMessage) return { ...base, status: 'failed', message: i.diskFullMessage, remedy: 'free space on the disk holding the data directory; indexing resumes by itself' };
  const s = i.space;
  if (!s) return { ...base, status: 'degraded', message: 'free space could not be measured', remedy: 'check that the data directory is reachable' };
  const pct = s.total > 0 ? (100 * s.free) / s.total : 0;
  const msg = `${fmtBytes(s.free)} free (${pct.toFixed(1)}%)`;
  // One threshold with the disk-space guard: "failed" exactly where indexing pauses, "low" a few
  // times above it (capped at 1 GB), so a small volume with room to spare is not reported failed.
  const pause = resumeThreshold(s.total);
  if (s.free < pause) return { ...base, status: 'failed', message: `${msg}: below ${fmtBytes(pause)}, where indexing pauses`, remedy: 'free space on the disk holding the data directory now' };
  const low = Math.min(DISK_DEGRADED_BYTES, Math.max(4 * pause, s.total * DISK_DEGRADED_RATIO));
  if (s.free < low) return { ...base, status: 'degraded', message: `${msg}: running low (indexing pauses below ${fmtBytes(pause)})`, remedy: 'free space on the disk holding the data directory' };
  return { ...base, status: 'ok', message: msg };
}

export function checkWatcher(i: HealthInputs): HealthCheck {
  const base = { id: 'watcher', name: 'File watcher' };
  const w = i.watcher;
  if (!w || w.mode === 'off') return { ...base, status: 'ok', message: 'not watching in this process (changes are found by rescans)' };
  if (w.mode === 'polling')
    return { ...base, status: 'degraded', message: w.message ?? 'watching by periodic rescans: changes show up later than usual', remedy: 'raise the inotify watch limit (fs.inotify.max_user_watches) or exclude large folders, then restart' };
  return { ...base, status: 'ok', message: 'watching for changes' };
}

export function checkPool(i: HealthInputs): HealthCheck {
  const base = { id: 'extractors', name: 'Extractor pool' };
  const p = i.pool;
  if (!p) return { ...base, status: 'ok', message: 'not running in this process' };
  if ((p.startFailures ?? 0) >= 3) return { ...base, status: 'failed', message: 'extraction workers fail to start', remedy: 'see logs/service.log; reinstall Owlet if worker files are missing' };
  const load = `${p.workers} workers, ${p.busy} busy, ${p.queued} queued`;
  if (p.recentFailures >= 5)
    return { ...base, status: 'degraded', message: `${load}; ${p.recentFailures} workers were killed or crashed in the last 10 minutes`, remedy: 'run "owlet errors" to see which files; raise extractors.timeoutMs or extractors.memoryMb if they are large' };
  return { ...base, status: 'ok', message: load };
}

export function checkRoots(i: HealthInputs): HealthCheck[] {
  if (i.roots.length === 0) return [{ id: 'roots', name: 'Indexed folders', status: 'degraded', message: 'no folder is configured for indexing', remedy: 'add one in the dashboard (Settings, Folders) or with "owlet index --root DIR"' }];
  return i.roots.map((r) =>
    r.state === 'offline'
      ? { id: `root:${r.path}`, name: `Folder ${r.path}`, status: 'degraded', message: 'offline (unplugged or unmounted); its documents are kept and stay searchable', remedy: 'reconnect the drive or share; Owlet notices and catches up' }
      : { id: `root:${r.path}`, name: `Folder ${r.path}`, status: 'ok', message: r.lastScanAt ? `online, last scanned ${fmtAge(i.now - r.lastScanAt)} ago` : 'online, first scan in progress' },
  );
}

export function checkBreakers(i: HealthInputs): HealthCheck[] {
  return i.breakers.map((b) => {
    const base = { id: `breaker:${b.name}`, name: `${b.name.toUpperCase()} extraction` };
    if (b.state === 'closed') return { ...base, status: 'ok', message: 'extracting normally' };
    const since = b.notClosedSince !== null ? ` for ${fmtAge(i.now - b.notClosedSince)}` : '';
    return {
      ...base,
      status: 'degraded',
      message: `paused${since} after repeated timeouts or crashes (${b.state}); its files wait and are retried automatically`,
      remedy: 'run "owlet errors" to see the files that failed; they may be damaged or very large',
    };
  });
}

export function checkIndexing(i: HealthInputs): HealthCheck {
  const base = { id: 'indexing', name: 'Indexing' };
  const reasons = i.pausedBecause.filter((r) => r !== 'user');
  if (reasons.length) return { ...base, status: 'degraded', message: `paused: ${reasons.join(', ')}`, remedy: reasons.includes('battery') ? 'connect mains power' : 'see the other checks' };
  if (i.pausedBecause.includes('user')) return { ...base, status: 'ok', message: 'paused by you' };
  return { ...base, status: 'ok', message: 'running' };
}

export function checkRestarts(i: HealthInputs): HealthCheck | null {
  if (i.uncleanRestarts1h === null) return null;
  const base = { id: 'restarts', name: 'Service restarts' };
  const n = i.uncleanRestarts1h;
  if (n >= 3) return { ...base, status: 'failed', message: `${n} crashes or kills in the last hour (crash loop)`, remedy: 'read logs/service.log in the data directory and run "owlet doctor"' };
  if (n >= 1) return { ...base, status: 'degraded', message: `${n} crash${n > 1 ? 'es' : ''} or kill${n > 1 ? 's' : ''} in the last hour`, remedy: 'read logs/service.log in the data directory' };
  return { ...base, status: 'ok', message: 'no crash in the last hour' };
}

export function checkBackup(i: HealthInputs): HealthCheck {
  const base = { id: 'backup', name: 'Backups' };
  if (i.backup === undefined) return { ...base, status: 'ok', message: 'no backups yet (this build has no backup feature)' };
  // A new install has none until the first scheduled one; failing backups are reported by the
  // backup feature itself (status and its own alerts), so "none yet" is not a fault here.
  if (i.backup === null || i.backup.lastVerifiedAt === null) return { ...base, status: 'ok', message: `no backups yet${i.backup?.destination ? ` (destination ${i.backup.destination})` : ''}` };
  const ageMs = i.now - i.backup.lastVerifiedAt;
  const msg = `last verified backup ${fmtAge(ageMs)} ago${i.backup.destination ? ` (${i.backup.destination})` : ''}`;
  if (ageMs > BACKUP_FAILED_HOURS * 3_600_000) return { ...base, status: 'failed', message: msg, remedy: 'check the backup destination is reachable and run a backup now' };
  if (ageMs > BACKUP_DEGRADED_HOURS * 3_600_000) return { ...base, status: 'degraded', message: msg, remedy: 'check the backup destination is reachable and run a backup' };
  return { ...base, status: 'ok', message: msg };
}

/** Every check of the running service, in display order. */
export function allChecks(i: HealthInputs): HealthCheck[] {
  const restarts = checkRestarts(i);
  return [
    checkDatabase(i),
    checkIntegrity(i),
    checkDisk(i),
    checkIndexing(i),
    checkWatcher(i),
    checkPool(i),
    ...checkRoots(i),
    ...checkBreakers(i),
    ...(restarts ? [restarts] : []),
    checkBackup(i),
  ];
}
