import type { Db } from '../store/db.js';
import { QuarantineRows } from '../store/quarantine.js';

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
  private readonly rows: QuarantineRows;
  constructor(db: Db, private readonly maxAttempts: number, private readonly now: () => number = Date.now) {
    this.rows = new QuarantineRows(db);
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
    this.rows.upsert(file.path, file.size, file.mtimeMs, attempts, this.now());
    return { attempts, quarantined: attempts >= this.maxAttempts };
  }

  /** The file was extracted (or is gone): its record is dropped. */
  end(path: string): void {
    this.rows.clear(path);
  }

  /** Worker deaths recorded for this version of the file (0 when none or the file changed). */
  attemptsOf(file: FileVersion): number {
    const prev = this.rows.get(file.path);
    return prev && prev.size === file.size && prev.mtimeMs === file.mtimeMs ? prev.attempts : 0;
  }

  get limit(): number {
    return this.maxAttempts;
  }

  quarantinedCount(): number {
    return this.rows.countAtLeast(this.maxAttempts);
  }
}
