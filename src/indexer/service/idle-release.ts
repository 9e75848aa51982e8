/**
 * Gives memory back once the service has had nothing to do for a while (issue #14): a tray app
 * spends most of its day idle, and what indexing grew (SQLite's page cache, cached results, V8's
 * heap) need not stay resident. `tick()` is called periodically; `activity()` on every write.
 * The release runs once per idle spell, never while work is in hand.
 */
export interface IdleReleaseOptions {
  /** Quiet time before releasing; 0 disables. */
  idleMs: number;
  /** True when nothing is queued, running or pending a write. */
  isIdle: () => boolean;
  release: () => void;
  now?: () => number;
}

export class IdleRelease {
  private lastActivity: number;
  private released = false;
  private readonly now: () => number;
  /** Releases done so far (status and tests). */
  count = 0;

  constructor(private readonly opts: IdleReleaseOptions) {
    this.now = opts.now ?? Date.now;
    this.lastActivity = this.now();
  }

  /** Something was written or changed: the next quiet spell releases again. */
  activity(): void {
    this.lastActivity = this.now();
    this.released = false;
  }

  tick(): boolean {
    if (this.opts.idleMs <= 0 || this.released) return false;
    if (!this.opts.isIdle()) {
      // Busy now: the quiet time counts from when the work ends.
      this.lastActivity = this.now();
      return false;
    }
    if (this.now() - this.lastActivity < this.opts.idleMs) return false;
    this.released = true;
    this.count++;
    this.opts.release();
    return true;
  }
}
