import fs from 'node:fs';
import { errnoCode } from '../../shared/errors.js';
import type { Logger } from '../log/logger.js';
import { sqliteFailureOf } from '../store/sqlite-errors.js';

/**
 * Graceful degradation on a full data volume (ENOSPC / SQLITE_FULL).
 *
 *        report(disk-full error)                 check(): enough free space
 *   ok ───────────────────────────▶ full ──────────────────────────────────▶ retry()
 *    ▲                               ▲  │ (indexing paused,                    │
 *    │        retry() succeeded      │  │  search unaffected)                  │
 *    └───────────────────────────────┼──┼──────────────────────────────────────┤
 *                                    └──┴──── retry() failed: back off ◀───────┘
 *
 * SQLite rolls a failed transaction back, so the database stays at the last committed batch; the
 * batch writer keeps the ops that did not commit. While full, free space is polled (statfs, cheap)
 * and the failed write is retried only when there is room, with exponential backoff between
 * failed retries so a volume that stays nearly full is not hammered.
 */

const FULL_ERRNO = new Set(['ENOSPC', 'EDQUOT']);

/** True for "no space left" in any form: an errno, or what the SQLite classifier calls full. */
export function isDiskFullError(e: unknown): boolean {
  if (sqliteFailureOf(e) === 'full') return true;
  for (let cur: unknown = e, depth = 0; cur && depth < 5; depth++) {
    const code = errnoCode(cur);
    if (code && FULL_ERRNO.has(code)) return true;
    cur = (cur as { cause?: unknown }).cause;
  }
  return false;
}

export interface VolumeSpace {
  /** Bytes this process may still write. */
  free: number;
  total: number;
}

export type SpaceProbe = (dir: string) => Promise<VolumeSpace>;

export const statfsProbe: SpaceProbe = async (dir) => {
  const s = await fs.promises.statfs(dir);
  return { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
};

/**
 * Free space needed before a retry is worth trying: 2 % of the volume, at least 4 MiB and at most
 * 64 MiB. Resuming at the first free kilobyte would only fail again at once.
 */
export function resumeThreshold(total: number): number {
  const MiB = 1024 * 1024;
  return Math.min(64 * MiB, Math.max(4 * MiB, Math.floor(total * 0.02)));
}

export interface DiskSpaceGuardOptions {
  /** The data directory (the volume holding the database, its WAL and the log). */
  dir: string;
  /** Retries the write that failed (flushes the held batch); throws if it still fails. */
  retry: () => void;
  onDidPause: () => void;
  onDidResume: () => void;
  log: Logger;
  probe?: SpaceProbe;
  now?: () => number;
  /** How often free space is looked at while full. */
  pollMs?: number;
  /** Backoff between failed retries: base doubling up to max. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  threshold?: (total: number) => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (t: unknown) => void;
}

export type DiskState = 'ok' | 'full';

export class DiskSpaceGuard {
  private stateValue: DiskState = 'ok';
  private since: number | null = null;
  private lastFree: number | null = null;
  private failedRetries = 0;
  private nextRetryAt = 0;
  /** Free space when the last retry failed: a big jump since then is worth a retry before the backoff ends. */
  private freeAtFailure = 0;
  private timer: unknown = null;
  private checking: Promise<void> | null = null;
  private stopped = false;
  private armed = false;
  private readonly now: () => number;
  private readonly probe: SpaceProbe;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (t: unknown) => void;

  constructor(private readonly opts: DiskSpaceGuardOptions) {
    this.now = opts.now ?? Date.now;
    this.probe = opts.probe ?? statfsProbe;
    this.setTimer = opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms).unref());
    this.clearTimer = opts.clearTimer ?? ((t) => clearTimeout(t as NodeJS.Timeout));
  }

  get state(): DiskState {
    return this.stateValue;
  }

  /** Why the service is degraded, for status; null while there is space. */
  get message(): string | null {
    if (this.stateValue === 'ok') return null;
    const free = this.lastFree === null ? '' : ` (${(this.lastFree / (1024 * 1024)).toFixed(1)} MB free)`;
    return `not enough disk space on the data volume${free}: indexing is paused and resumes by itself when space is freed; search keeps working (${this.opts.dir})`;
  }

  /**
   * Starts handling disk-full errors. Only the long-running service arms the guard: a one-shot
   * `owlet index` should fail with the error rather than wait for space.
   */
  arm(): void {
    this.armed = true;
  }

  /** Whether a failed write of this kind is waited out here (the writer then holds its queue). */
  handles(e: unknown): boolean {
    return this.armed && !this.stopped && isDiskFullError(e);
  }

  /**
   * Looks at a failed write. A disk-full error pauses indexing and starts watching for space; it
   * returns true (handled). Anything else, or any error before `arm()`, returns false for the
   * caller to handle.
   */
  report(e: unknown): boolean {
    if (!this.armed || !isDiskFullError(e)) return false;
    if (this.stopped) return true;
    if (this.stateValue === 'full') return true;
    this.stateValue = 'full';
    this.since = this.now();
    this.failedRetries = 0;
    this.nextRetryAt = 0;
    this.freeAtFailure = 0;
    this.opts.log.warn('data volume full; indexing paused', { dir: this.opts.dir, error: e });
    this.opts.onDidPause();
    this.schedule();
    return true;
  }

  /** One look at the volume while full: retry when there is room and the backoff allows. */
  check(): Promise<void> {
    this.checking ??= this.checkOnce().finally(() => (this.checking = null));
    return this.checking;
  }

  private async checkOnce(): Promise<void> {
    if (this.stateValue !== 'full' || this.stopped) return;
    let space: VolumeSpace;
    try {
      space = await this.probe(this.opts.dir);
    } catch (e) {
      // Cannot tell (statfs unsupported here): fall back to retrying on the backoff schedule.
      this.opts.log.debug('free space unknown', { error: e });
      space = { free: Number.MAX_SAFE_INTEGER, total: 0 };
    }
    if (space.free !== Number.MAX_SAFE_INTEGER) this.lastFree = space.free;
    const needed = (this.opts.threshold ?? resumeThreshold)(space.total);
    if (space.free < needed) return;
    const grewALot = this.failedRetries > 0 && space.free - this.freeAtFailure >= needed;
    if (this.now() < this.nextRetryAt && !grewALot) return;
    try {
      this.opts.retry();
    } catch (e) {
      this.failedRetries++;
      this.freeAtFailure = space.free;
      const base = this.opts.backoffBaseMs ?? 2_000;
      const max = this.opts.backoffMaxMs ?? 60_000;
      this.nextRetryAt = this.now() + Math.min(max, base * 2 ** (this.failedRetries - 1));
      this.opts.log.warn('write still failing; waiting for more space', { free: space.free, attempts: this.failedRetries, error: e });
      return;
    }
    const pausedMs = this.since === null ? 0 : this.now() - this.since;
    this.stateValue = 'ok';
    this.since = null;
    this.opts.log.info('disk space is back; indexing resumes', { free: space.free, pausedMs });
    this.opts.onDidResume();
  }

  private schedule(): void {
    if (this.timer !== null || this.stopped) return;
    this.timer = this.setTimer(() => {
      this.timer = null;
      void this.check()
        .catch((e) => this.opts.log.error('disk space check failed', { error: e }))
        .finally(() => {
          if (this.stateValue === 'full') this.schedule();
        });
    }, this.opts.pollMs ?? 2_000);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
  }
}
