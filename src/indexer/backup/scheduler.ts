import type { Logger } from '../log/logger.js';
import type { BackupReason } from './manifest.js';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(t: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (t) => clearTimeout(t as NodeJS.Timeout),
};

/** The next `hour`:00 local time strictly after `nowMs`. */
export function nextDailyAt(nowMs: number, hour: number): number {
  const d = new Date(nowMs);
  const at = new Date(d.getFullYear(), d.getMonth(), d.getDate(), hour, 0, 0, 0).getTime();
  if (at > nowMs) return at;
  const t = new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1, hour, 0, 0, 0);
  return t.getTime();
}

const DAY = 86_400_000;

export interface SchedulerOptions {
  enabled: boolean;
  hour: number;
  now: () => number;
  timers: Timers;
  /** Takes one backup; errors are logged here, never thrown at the timer. */
  run: (reason: BackupReason) => Promise<unknown>;
  /** When the newest verified backup was made (ms), or null. */
  lastBackupAt: () => number | null;
  log: Logger;
  /** A day missed (the computer was off at the hour) is caught up this long after start. */
  catchUpDelayMs?: number;
  /**
   * True while indexing runs: a backup due then waits (rechecked every deferStepMs, at most
   * maxDeferMs), so the first pass of a new install is not slowed, nor its memory doubled, by a
   * backup of a half-built index (issue #14).
   */
  busy?: () => boolean;
  deferStepMs?: number;
  maxDeferMs?: number;
}

/**
 * Daily backups at a configured local hour.
 *
 *   start() ─▶ armed(next hour:00) ──fires──▶ running ──done──▶ armed(next day)
 *      └─ last backup older than a day ─▶ catch-up after catchUpDelayMs ─▶ running
 *   stop() from any state ─▶ stopped (a running backup finishes; nothing is re-armed)
 */
export class BackupScheduler {
  private timer: unknown = null;
  private catchUp: unknown = null;
  private deferred: unknown = null;
  private stopped = false;
  private running: Promise<unknown> | null = null;
  nextAt: number | null = null;

  constructor(private readonly o: SchedulerOptions) {}

  start(): void {
    if (!this.o.enabled || this.stopped) return;
    this.arm();
    const last = this.o.lastBackupAt();
    const now = this.o.now();
    if (last === null || now - last > DAY + 3_600_000) {
      this.catchUp = this.o.timers.setTimeout(() => {
        this.catchUp = null;
        void this.whenIdle('catch-up', this.o.now());
      }, this.o.catchUpDelayMs ?? 5 * 60_000);
    }
  }

  private arm(): void {
    if (this.stopped) return;
    const now = this.o.now();
    this.nextAt = nextDailyAt(now, this.o.hour);
    this.timer = this.o.timers.setTimeout(() => {
      this.timer = null;
      void this.whenIdle('scheduled', this.o.now()).finally(() => this.arm());
    }, this.nextAt - now);
  }

  /** Fires once indexing is idle, or once it has waited maxDeferMs (a machine always indexing still gets backups). */
  private whenIdle(reason: BackupReason, since: number): Promise<unknown> {
    const busy = this.o.busy?.() ?? false;
    if (!busy || this.o.now() - since >= (this.o.maxDeferMs ?? 3_600_000)) return this.fire(reason);
    return new Promise((resolve) => {
      this.deferred = this.o.timers.setTimeout(() => {
        this.deferred = null;
        if (this.stopped) return resolve(undefined);
        resolve(this.whenIdle(reason, since));
      }, this.o.deferStepMs ?? 60_000);
    });
  }

  /** Runs one backup unless one is already running (then that one is awaited). */
  fire(reason: BackupReason): Promise<unknown> {
    this.running ??= this.o
      .run(reason)
      .catch((e) => this.o.log.error('scheduled backup failed', { reason, error: e }))
      .finally(() => (this.running = null));
    return this.running;
  }

  stop(): Promise<unknown> {
    this.stopped = true;
    if (this.timer !== null) this.o.timers.clearTimeout(this.timer);
    if (this.catchUp !== null) this.o.timers.clearTimeout(this.catchUp);
    if (this.deferred !== null) this.o.timers.clearTimeout(this.deferred);
    this.timer = this.catchUp = this.deferred = null;
    this.nextAt = null;
    return this.running ?? Promise.resolve();
  }
}
