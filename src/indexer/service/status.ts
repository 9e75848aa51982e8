import type { StatusReport } from '../../shared/api.js';
import { VERSION } from '../version.js';
import type { Counts, RootRow } from '../store/documents.js';
import { databaseFiles, quarantinedFiles, retryQueueSize } from '../store/stats.js';
import { schemaVersion } from '../store/schema-version.js';

/** A note a higher layer adds to every status (recovery phase, a failed backup, …). */
export type StatusNote = { component: string; message: string };
import type { StoreContext } from './read-only-store.js';

/**
 * The one status builder. The running service, the CLI without a service and the host between
 * two services all describe themselves through `statusReport`, so a count or a state means the
 * same thing wherever it is shown (CLI, API, dashboard, tray).
 *
 * State, in order of precedence:
 *   starting  the index is not open yet
 *   degraded  something needs attention (notes say what)
 *   paused    indexing is paused (by the user, on battery, disk full)
 *   indexing  ANY work is outstanding: a pass runs, files are queued for extraction or a write,
 *             the extraction pool is busy, watcher changes wait, or a rescan is pending
 *   idle      none of the above: the index is up to date with what the service has seen
 */

/** Work the service still has in hand; any non-zero figure means "not up to date". */
export interface Backlog {
  /** Files queued in the current pass (extraction or write). */
  queued: number;
  /** Documents waiting in the batch writer. */
  unwritten: number;
  /** Extraction jobs running or waiting in the pool. */
  poolBusy: number;
  poolQueued: number;
  /** Changed paths the watcher holds (debouncing) or is applying. */
  changes: number;
  /** A full reconcile was asked for and has not finished. */
  rescanPending: boolean;
}

export const NO_BACKLOG: Backlog = { queued: 0, unwritten: 0, poolBusy: 0, poolQueued: 0, changes: 0, rescanPending: false };

export function hasBacklog(b: Backlog): boolean {
  return b.queued + b.unwritten + b.poolBusy + b.poolQueued + b.changes > 0 || b.rescanPending;
}

export interface StatusInput {
  dataDir: string;
  /** The index is open and answering. */
  ready: boolean;
  /** Still opening (a service being constructed or started). */
  starting: boolean;
  paused: boolean;
  pausedBecause: string[];
  progress: StatusReport['progress'];
  backlog: Backlog;
  counts: Counts;
  roots: RootRow[];
  watcher: StatusReport['watcher'];
  notes: StatusNote[];
  schemaVersion: number;
  uptimeMs: number;
  resilience: StatusReport['resilience'];
}

export const IDLE_PROGRESS: StatusReport['progress'] = { phase: 'idle', scanned: 0, queued: 0, done: 0, startedAt: null, finishedAt: null };
export const NO_POOL: StatusReport['resilience']['pool'] = { workers: 0, busy: 0, queued: 0, restarts: 0, timeouts: 0, crashes: 0, memoryKills: 0, recycled: 0 };
export const NO_COUNTS: Counts = { indexed: 0, skipped: 0, failed: 0, bytes: 0, textBytes: 0 };

export function stateOf(i: Pick<StatusInput, 'ready' | 'starting' | 'paused' | 'progress' | 'backlog'> & { notes: readonly StatusNote[] }): StatusReport['state'] {
  if (i.starting) return 'starting';
  if (i.notes.length) return 'degraded';
  if (i.paused) return 'paused';
  if (i.progress.phase !== 'idle' || hasBacklog(i.backlog)) return 'indexing';
  return 'idle';
}

export function statusReport(i: StatusInput): StatusReport {
  const notes = [...i.notes];
  const roots = i.roots.map((r) => ({ path: r.path, state: r.state, lastScanAt: r.lastScanAt ? new Date(r.lastScanAt).toISOString() : null }));
  for (const r of roots) if (r.state === 'offline') notes.push({ component: 'root', message: `${r.path} is offline; its documents are kept and stay searchable` });
  const db = databaseFiles(i.dataDir);
  // The progress a person reads: "queued" counts every file still in hand, not only the pass's queue.
  const b = i.backlog;
  const inHand = Math.max(i.progress.queued, b.queued) + b.unwritten + b.poolQueued + b.changes;
  const busy = hasBacklog(b) || i.progress.phase !== 'idle';
  const progress = { ...i.progress, queued: busy ? Math.max(i.progress.queued, inHand) : i.progress.queued };
  return {
    version: VERSION,
    state: stateOf({ ...i, notes }),
    ready: i.ready,
    paused: i.paused,
    pausedBecause: i.pausedBecause,
    dataDir: i.dataDir,
    progress,
    counts: { indexed: i.counts.indexed, skipped: i.counts.skipped, failed: i.counts.failed, bytes: i.counts.bytes, textBytes: i.counts.textBytes },
    roots,
    watcher: i.watcher,
    degraded: notes,
    database: { bytes: db.bytes, walBytes: db.walBytes, schemaVersion: i.schemaVersion },
    uptimeMs: i.uptimeMs,
    resilience: i.resilience,
  };
}

/** Adds notes from higher layers (recovery, backups); a note makes a settled state degraded. */
export function withNotes(s: StatusReport, notes: readonly StatusNote[]): StatusReport {
  if (notes.length === 0) return s;
  return { ...s, state: s.state === 'starting' ? s.state : 'degraded', degraded: [...s.degraded, ...notes] };
}

/** The input of a service that is not running: nothing in hand, nothing counted; callers fill in what they know. */
export function idleInput(dataDir: string, over: Partial<StatusInput> = {}): StatusInput {
  return {
    dataDir,
    ready: false,
    starting: false,
    paused: false,
    pausedBecause: [],
    progress: IDLE_PROGRESS,
    backlog: NO_BACKLOG,
    counts: NO_COUNTS,
    roots: [],
    watcher: { mode: 'off', message: null },
    notes: [],
    schemaVersion: 0,
    uptimeMs: 0,
    resilience: { breakers: [], retryQueue: 0, quarantined: 0, deferred: 0, pool: NO_POOL },
    ...over,
  };
}

/** What the host answers while no service is open and none has answered before. */
export function notOpenStatus(dataDir: string): StatusReport {
  return statusReport(idleInput(dataDir));
}

/**
 * The status of an index no service has open (`owlet status` with no service running): the same
 * counts and the same builder, from a read-only connection the caller opened (and closes). `state`
 * is idle: nothing is running. The caller opens it: the CLI's lean read-only path loads neither the
 * schema library nor the migrations (issue #14), and this module imports neither.
 */
export function offlineStatusOf(ctx: Pick<StoreContext, 'dataDir' | 'config' | 'db' | 'store'>): StatusReport {
  return statusReport(
    idleInput(ctx.dataDir, {
      counts: ctx.store.counts(),
      roots: ctx.store.roots(),
      watcher: { mode: 'off', message: 'no service running' },
      schemaVersion: schemaVersion(ctx.db),
      resilience: { breakers: [], retryQueue: retryQueueSize(ctx.db), quarantined: quarantinedFiles(ctx.db, ctx.config.resilience.quarantineAttempts), deferred: 0, pool: NO_POOL },
    }),
  );
}
