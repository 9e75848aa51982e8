import type { Db } from '../store/db.js';

/** A file version: a changed size or mtime makes it a new file for the quarantine. */
export interface FileVersion {
  path: string;
  size: number;
  mtimeMs: number;
}

/**
 * Quarantine for files that kill or hang extraction workers. An attempt is recorded only when a
 * worker really died, was killed at its deadline or for its memory while it had this file (the
 * pool says so); after `maxAttempts` such deaths the file is not tried again until it changes on
 * disk (other size or mtime). Nothing is recorded before extraction: a service stopped, killed or
 * restarted while a file was in flight, a pool whose workers cannot start, or a job cancelled or
 * superseded, is not the file's fault.
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
   * Call before extracting: 'quarantined' when workers died on this very version of the file
   * `maxAttempts` times already, else 'go'. Writes nothing.
   */
  begin(file: FileVersion): { verdict: 'go' | 'quarantined'; attempts: number } {
    const earlier = this.attemptsOf(file);
    return { verdict: earlier >= this.maxAttempts ? 'quarantined' : 'go', attempts: earlier };
  }

  /**
   * A worker died or hung on this file (an outcome with `workerLost`): counts one attempt.
   * Returns the attempts so far and whether the file is now quarantined.
   */
  recordDeath(file: FileVersion): { attempts: number; quarantined: boolean } {
    const attempts = this.attemptsOf(file) + 1;
    this.q.upsert.run(file.path, file.size, file.mtimeMs, attempts, this.now());
    return { attempts, quarantined: attempts >= this.maxAttempts };
  }

  /** The file was extracted (or is gone): its record is dropped. */
  end(path: string): void {
    this.q.clear.run(path);
  }

  /** Worker deaths recorded for this version of the file (0 when none or the file changed). */
  attemptsOf(file: FileVersion): number {
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
