import type { Db } from './db.js';

/** One row of the retry queue. */
export interface RetryEntry {
  path: string;
  attempts: number;
  nextAt: number;
  lastError: string;
}

/**
 * The `retry_queue` table in index.db, so a restart resumes the retries instead of forgetting them.
 * The policy (backoff, giving up) is resilience/retry-queue.ts; this is its SQL.
 */
export class RetryRows {
  private readonly q;
  constructor(db: Db) {
    this.q = {
      get: db.prepare<[string], { attempts: number }>('SELECT attempts FROM retry_queue WHERE path = ?'),
      upsert: db.prepare(
        `INSERT INTO retry_queue (path, attempts, next_at, last_error) VALUES (?, ?, ?, ?)
         ON CONFLICT(path) DO UPDATE SET attempts = excluded.attempts, next_at = excluded.next_at, last_error = excluded.last_error`,
      ),
      remove: db.prepare('DELETE FROM retry_queue WHERE path = ?'),
      due: db.prepare<[number, number], RetryEntry>(
        'SELECT path, attempts, next_at AS nextAt, last_error AS lastError FROM retry_queue WHERE next_at <= ? ORDER BY next_at LIMIT ?',
      ),
      next: db.prepare<[], { nextAt: number | null }>('SELECT min(next_at) AS nextAt FROM retry_queue'),
      size: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM retry_queue'),
    };
  }

  /** Attempts recorded for `path`, or undefined when it is not queued. */
  attemptsOf(path: string): number | undefined {
    return this.q.get.get(path)?.attempts;
  }

  upsert(path: string, attempts: number, nextAt: number, lastError: string): void {
    this.q.upsert.run(path, attempts, nextAt, lastError);
  }

  remove(path: string): void {
    this.q.remove.run(path);
  }

  /** Entries due at `now`, earliest first, at most `limit`. */
  due(now: number, limit: number): RetryEntry[] {
    return this.q.due.all(now, limit);
  }

  /** The earliest due time, or null when the queue is empty. */
  nextDueAt(): number | null {
    return this.q.next.get()?.nextAt ?? null;
  }

  size(): number {
    return this.q.size.get()!.n;
  }
}
