/**
 * Pure restart-policy arithmetic for the supervisor: no timers, no processes, so it is tested
 * with plain numbers.
 */

export interface BackoffOptions {
  /** Delay before the first restart after a crash. */
  initialMs: number;
  /** Upper bound for any single delay. */
  maxMs: number;
  /** Growth per consecutive crash (2 = doubling). */
  factor: number;
}

export interface CrashLoopOptions {
  /** This many crashes inside `windowMs` is a crash loop. */
  maxCrashes: number;
  windowMs: number;
}

/**
 * Delay before restart number `attempt` (1-based: the first restart after a healthy run is 1).
 * No jitter: there is exactly one service per user session, so there is no herd to spread out,
 * and deterministic delays keep the fake-clock tests exact.
 */
export function backoffDelay(attempt: number, o: BackoffOptions): number {
  const n = Math.max(1, Math.floor(attempt));
  // Computed in steps to avoid Infinity/NaN for large attempts.
  let d = o.initialMs;
  for (let i = 1; i < n && d < o.maxMs; i++) d *= o.factor;
  return Math.min(o.maxMs, Math.max(0, Math.round(d)));
}

/** Timestamps of recent crashes; answers "how many crashes in the last windowMs". */
export class CrashWindow {
  private times: number[] = [];
  constructor(private readonly opts: CrashLoopOptions) {}

  /** Records a crash at `now` and returns how many crashes fall inside the window. */
  record(now: number): number {
    this.times.push(now);
    return this.count(now);
  }

  count(now: number): number {
    const from = now - this.opts.windowMs;
    this.times = this.times.filter((t) => t > from);
    return this.times.length;
  }

  /** True when the crashes inside the window reach the limit. */
  isLooping(now: number): boolean {
    return this.count(now) >= this.opts.maxCrashes;
  }

  clear(): void {
    this.times = [];
  }
}
