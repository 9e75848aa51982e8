import type { AuditEventName, AuditFields, AuditLog } from '../../shared/audit.js';

/**
 * Failed authentications recorded as one audit entry per window with a count, never one per
 * attempt: a flood of bad tokens or sign-in codes (hundreds a minute) would otherwise write as
 * many fsync'd entries and grow the log without bound. The first failure of a quiet period is
 * recorded at once (so a single mistake is visible immediately); the rest of the window is
 * summed and written when the window ends.
 */
export class AggregatedFailureAudit {
  private pending = 0;
  private lastFields: AuditFields = {};
  private windowStart = -Infinity;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly audit: AuditLog,
    private readonly event: AuditEventName,
    private readonly opts: { windowMs?: number; now?: () => number } = {},
  ) {}

  private get windowMs(): number {
    return this.opts.windowMs ?? 10_000;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  record(fields: AuditFields): void {
    const t = this.now();
    if (t - this.windowStart >= this.windowMs) {
      this.flush();
      this.windowStart = t;
      this.audit.append(this.event, { count: 1, ...fields });
      return;
    }
    this.pending++;
    this.lastFields = fields;
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), Math.max(1, this.windowStart + this.windowMs - t));
      this.timer.unref();
    }
  }

  /** Writes the failures counted since the last entry (also called on shutdown). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending === 0) return;
    const count = this.pending;
    this.pending = 0;
    this.audit.append(this.event, { ...this.lastFields, count, aggregated: true });
  }
}
