import { owletError, type OwletError } from '../../shared/errors.js';
import { Emitter, type Event } from '../../shared/event.js';
import { readState, updateState, type IntegrityCheckRecord } from '../backup/state.js';
import { integrityCheckInWorker, type IntegrityResult } from '../store/integrity-check.js';
import type { Logger } from '../log/logger.js';
import { indexPath } from '../store/stats.js';

/** The shortest period between two scheduled checks. */
const MIN_PERIOD_MS = 10_000;

export type IntegrityCheck = (file: string, key: Buffer | null) => Promise<IntegrityResult>;

export interface IntegrityScheduleOptions {
  dataDir: string;
  /** Hours between checks (config monitoring.integrityCheckHours); 0 disables. */
  hours: number;
  /** The live index key. */
  key: () => Buffer | null;
  /** Told when a check finds damage (the guardian starts recovery). */
  onDamage: (e: OwletError) => void;
  log: Logger;
  /** Runs the check (default: PRAGMA integrity_check in a worker thread). */
  check?: IntegrityCheck;
  now?: () => number;
  /** The first check waits at least this long after a start (the first scan is busy enough), or one period if shorter. */
  minDelayMs?: number;
  /**
   * Changes whenever the index file is taken away or replaced (a recovery, a restore). A verdict on
   * a file that was replaced while it was checked says nothing about the file there now: it is
   * dropped and the new file is checked instead.
   */
  generation?: () => number;
}

/** Checks of a file replaced under them, in a row, before the check gives up as inconclusive. */
const MAX_SUPERSEDED = 3;

/**
 * The periodic full integrity check of the index. It belongs to recovery, not to monitoring:
 * corruption is detected (and repaired) whether or not metrics are collected. Monitoring only
 * listens (onDidCheck) to record the verdict for health and alerts. The last verdict is kept in
 * the recovery state file, so a restart does not check again before it is due.
 */
export class IntegritySchedule {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<IntegrityResult> | null = null;
  private stopped = false;
  private lastRec: IntegrityCheckRecord | null;
  private readonly checkEmitter: Emitter<IntegrityCheckRecord>;
  /** A conclusive verdict was reached (ok or damage). */
  readonly onDidCheck: Event<IntegrityCheckRecord>;
  private readonly now: () => number;

  constructor(private readonly o: IntegrityScheduleOptions) {
    this.now = o.now ?? Date.now;
    this.lastRec = readState(o.dataDir).lastIntegrity ?? null;
    this.checkEmitter = new Emitter<IntegrityCheckRecord>((e) => o.log.warn('an integrity listener failed', { error: e }));
    this.onDidCheck = this.checkEmitter.event;
  }

  last(): IntegrityCheckRecord | null {
    return this.lastRec;
  }

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  private schedule(): void {
    if (this.o.hours <= 0 || this.stopped) return;
    // A full check of a large index takes seconds: never back to back, whatever the setting.
    const every = Math.max(this.o.hours * 3_600_000, MIN_PERIOD_MS);
    // The wait after a start never exceeds the period itself: checks asked for every few seconds
    // (the chaos run) must not wait out the five minutes meant for a daily check. A last check
    // that found damage is checked again at that first opportunity, not a period later.
    const grace = Math.min(this.o.minDelayMs ?? 5 * 60_000, every);
    const last = this.lastRec?.at ?? 0;
    const delay = this.lastRec && !this.lastRec.ok ? grace : Math.max(grace, last + every - this.now());
    this.timer = setTimeout(() => {
      void this.runNow()
        .catch((e) => this.o.log.warn('integrity check failed to run', { error: e }))
        .finally(() => this.schedule());
    }, Math.min(delay, 2 ** 31 - 1));
    this.timer.unref();
  }

  /** Checks now (overlapping calls share one run); damage is reported to recovery. */
  runNow(): Promise<IntegrityResult> {
    this.running ??= (async () => {
      const run = this.o.check ?? ((f: string, key: Buffer | null) => integrityCheckInWorker(f, { key }));
      let r: IntegrityResult;
      for (let attempt = 1; ; attempt++) {
        const before = this.o.generation?.();
        r = await run(indexPath(this.o.dataDir), this.o.key());
        if (before === this.o.generation?.()) break;
        // A check started on the damaged file and finished after recovery replaced it reported
        // damage already repaired, and raised index-corrupt again (seen under CI load).
        this.o.log.info('integrity check superseded: the index was replaced while it ran', { attempt });
        if (attempt >= MAX_SUPERSEDED) {
          r = { ok: true, inconclusive: true, message: 'the index was replaced during every check', durationMs: r.durationMs };
          break;
        }
      }
      if (r.inconclusive) {
        this.o.log.warn('integrity check did not run', { reason: r.message });
        return r;
      }
      const rec: IntegrityCheckRecord = { at: this.now(), ok: r.ok, message: r.message, durationMs: r.durationMs };
      this.lastRec = rec;
      updateState(this.o.dataDir, { lastIntegrity: rec });
      (r.ok ? this.o.log.info : this.o.log.error).call(this.o.log, 'integrity check finished', { ok: r.ok, durationMs: r.durationMs, problems: r.ok ? undefined : r.message });
      this.checkEmitter.fire(rec);
      if (!r.ok) this.o.onDamage(owletError('OWL_ERR_DB_CORRUPT', { reason: `the periodic integrity check found damage: ${r.message}` }));
      return r;
    })().finally(() => (this.running = null));
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => {});
  }
}
