/**
 * "Pause indexing for an hour / until tomorrow": when the user's pause ends by itself. One timer,
 * replaced by every new pause and dropped by resume and stop. The end time survives a restart in
 * pause-store.ts; the service host re-arms this timer from it.
 */
export interface PauseTimers {
  now(): number;
  setTimeout(cb: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realPauseTimers: PauseTimers = {
  now: () => Date.now(),
  setTimeout: (cb, ms) => {
    const t = setTimeout(cb, ms);
    // A pending automatic resume must never keep a stopping process alive.
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** The longest timed pause the API accepts (also keeps the delay inside setTimeout's range). */
export const MAX_PAUSE_MS = 7 * 86_400_000;

export class PauseSchedule {
  private handle: unknown;
  private _until: number | null = null;

  constructor(
    private readonly resume: () => void,
    private readonly timers: PauseTimers = realPauseTimers,
  ) {}

  /** When the current timed pause ends (ms since the epoch); null for none. */
  get until(): number | null {
    return this._until;
  }

  /** Arms the automatic resume at `untilMs`, or disarms it (null: paused until resumed). */
  set(untilMs: number | null): void {
    this.clear();
    if (untilMs === null) return;
    this._until = untilMs;
    const delay = Math.min(Math.max(0, untilMs - this.timers.now()), MAX_PAUSE_MS);
    this.handle = this.timers.setTimeout(() => {
      this.handle = undefined;
      this._until = null;
      this.resume();
    }, delay);
  }

  clear(): void {
    if (this.handle !== undefined) this.timers.clearTimeout(this.handle);
    this.handle = undefined;
    this._until = null;
  }
}
