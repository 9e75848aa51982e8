import type { Db } from '../store/db.js';

/**
 * Quarantine for files that kill or hang the indexer. An attempt is recorded (and committed)
 * before a file goes to an extractor, and cleared when its outcome is written. A row that is
 * still there at the next start means the process died on that file; after `maxAttempts` such
 * deaths the file is not tried again until it changes on disk (other size or mtime).
 */
export class Quarantine {
  private readonly q;
  constructor(db: Db, private readonly maxAttempts: number, private readonly now: () => number = Date.now) {
    this.q = {
      get: db.prepare<[string], { size: number; mtimeMs: number; attempts: number }>(
        'SELECT size, mtime_ms AS mtimeMs, attempts FROM extraction_attempts WHERE path = ?',
      ),
      upsert: db.prepare(
        `INSERT INTO extraction_attempts (path, size, mtime_ms, attempts, started_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime_ms = excluded.mtime_ms, attempts = excluded.attempts, started_at = excluded.started_at`,
      ),
      clear: db.prepare('DELETE FROM extraction_attempts WHERE path = ?'),
      count: db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM extraction_attempts WHERE attempts >= ?'),
    };
  }

  /**
   * Call before extracting. Returns 'go' with the attempt number, or 'quarantined' when earlier
   * attempts on this very version of the file did not come back.
   */
  begin(file: { path: string; size: number; mtimeMs: number }): { verdict: 'go' | 'quarantined'; attempts: number } {
    const prev = this.q.get.get(file.path);
    const sameVersion = prev && prev.size === file.size && prev.mtimeMs === file.mtimeMs;
    const earlier = sameVersion ? prev.attempts : 0;
    if (earlier >= this.maxAttempts) return { verdict: 'quarantined', attempts: earlier };
    this.q.upsert.run(file.path, file.size, file.mtimeMs, earlier + 1, this.now());
    return { verdict: 'go', attempts: earlier + 1 };
  }

  /** The outcome was written (inside the same transaction): the attempt came back. */
  end(path: string): void {
    this.q.clear.run(path);
  }

  /** Attempts recorded for this version of the file (0 when none or the file changed). */
  attemptsOf(file: { path: string; size: number; mtimeMs: number }): number {
    const prev = this.q.get.get(file.path);
    return prev && prev.size === file.size && prev.mtimeMs === file.mtimeMs ? prev.attempts : 0;
  }

  get limit(): number {
    return this.maxAttempts;
  }

  quarantinedCount(): number {
    return this.q.count.get(this.maxAttempts)!.n;
  }
}
